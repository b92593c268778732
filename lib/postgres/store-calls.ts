import { asExternalTaskError } from '../errors/index.js';
import { storeClosedError } from './store-closed.js';

/**
 * The calls of a PostgreSQL store in progress: each runs with the store's error style, and once the store
 * closes, new calls are refused at once while those in progress may finish.
 */
export class StoreCalls {
  private closed = false;
  private readonly running = new Set<Promise<unknown>>();

  /**
   * Runs a call; what fails in the database rejects with `InternalError` (500) carrying the driver's
   * error as `cause`. The library's own errors (bad arguments, retention) pass as they are.
   */
  run<T>(operation: Promise<T> | (() => Promise<T>)): Promise<T> {
    if (this.closed) return Promise.reject(storeClosedError());
    const running = (async () => {
      try {
        return await (typeof operation === 'function' ? operation() : operation);
      } catch (error) {
        throw asExternalTaskError(error, 'The PostgreSQL store failed');
      }
    })();
    this.running.add(running);
    const settled = (): void => void this.running.delete(running);
    running.then(settled, settled);
    return running;
  }

  /** Refuses new calls from now on; resolves once the calls in progress have settled. */
  close(): Promise<void> {
    this.closed = true;
    return Promise.allSettled(this.running).then(() => undefined);
  }
}
