import type { Logger } from '../logging/index.js';
import type {
  AvailabilityHint,
  AvailabilityListener,
  AvailabilityWatch,
} from './external-task-repository.js';

/** The in-memory store's availability watchers. A listener that throws is logged; the others still hear. */
export class AvailabilityAnnouncer {
  private readonly listeners = new Set<AvailabilityListener>();

  constructor(private readonly logger: Logger) {}

  watch(listener: AvailabilityListener): AvailabilityWatch {
    if (typeof listener !== 'function')
      throw new TypeError('watchAvailability: listener must be a function.');
    // Each watch gets a listener entry of its own, so the same function watched twice is two watches.
    const entry: AvailabilityListener = (hints) => listener(hints);
    this.listeners.add(entry);
    return {
      close: () => {
        this.listeners.delete(entry);
        return Promise.resolve();
      },
    };
  }

  /** Tells every watcher about `hints` (nothing when there are none). */
  announce(hints: readonly AvailabilityHint[]): void {
    if (hints.length === 0) return;
    for (const listener of this.listeners) {
      try {
        listener(hints);
      } catch (error) {
        this.logger.error('An availability listener threw; the others still heard the hints.', {
          hints,
          error,
        });
      }
    }
  }
}
