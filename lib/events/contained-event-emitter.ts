import { EventEmitter } from 'eventemitter3';

/**
 * An eventemitter3 emitter whose listeners cannot hurt the code that emits: a listener that throws (or
 * returns a promise that rejects) is reported to `reportListenerError`, and the remaining listeners of the
 * event still run. Listeners are called without a `this` context.
 */
export class ContainedEventEmitter<Events extends EventEmitter.ValidEventTypes> extends EventEmitter<Events> {
  constructor(private readonly reportListenerError: (event: string, error: unknown) => void) {
    super();
  }

  override emit<T extends EventEmitter.EventNames<Events>>(
    event: T,
    ...args: EventEmitter.EventArgs<Events, T>
  ): boolean {
    const listeners = this.listeners(event) as ((...args: unknown[]) => unknown)[];
    for (const listener of listeners) {
      // Removes `once` registrations of this listener before it runs, as eventemitter3's own emit does.
      this.removeListener(event, listener as EventEmitter.EventListener<Events, T>, undefined, true);
      try {
        const returned = listener(...args);
        if (returned instanceof Promise)
          returned.catch((error: unknown) => this.reportListenerError(String(event), error));
      } catch (error) {
        this.reportListenerError(String(event), error);
      }
    }
    return listeners.length > 0;
  }
}
