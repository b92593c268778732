import type { Logger } from '../logging/index.js';
import type { ExternalTaskChange, ExternalTaskChangeListener } from './external-task-repository.js';

/**
 * The subscribers of a repository's changes. A listener that throws is reported to the logger; the
 * others still hear the change, and the change itself stands.
 */
export class ChangeAnnouncer {
  private readonly listeners = new Set<ExternalTaskChangeListener>();

  constructor(private readonly logger: Logger) {}

  /** Adds `listener`; returns the function that removes it. */
  subscribe(listener: ExternalTaskChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tells every listener about `changes`, in order. */
  announce(changes: readonly ExternalTaskChange[]): void {
    for (const change of changes) {
      for (const listener of this.listeners) {
        try {
          listener(change);
        } catch (error) {
          this.logger.error('A repository change listener threw; the change itself was applied.', {
            change,
            error,
          });
        }
      }
    }
  }
}
