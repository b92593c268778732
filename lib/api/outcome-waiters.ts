import { NotFoundError } from '../errors/index.js';
import type { ExternalTask } from '../model/index.js';

/** Someone awaiting one task's outcome. */
export interface OutcomeWaiter {
  resolve(task: ExternalTask): void;
  reject(error: unknown): void;
}

/** The waiters for task outcomes, by task id; each is answered once and then forgotten. */
export class OutcomeWaiters {
  private readonly byTaskId = new Map<string, Set<OutcomeWaiter>>();

  /** The ids of the tasks someone waits for. */
  taskIds(): string[] {
    return [...this.byTaskId.keys()];
  }

  /** Registers `waiter` for the outcome of `externalTaskId`; returns the function that unregisters it. */
  add(externalTaskId: string, waiter: OutcomeWaiter): () => void {
    let waiters = this.byTaskId.get(externalTaskId);
    if (!waiters) {
      waiters = new Set();
      this.byTaskId.set(externalTaskId, waiters);
    }
    waiters.add(waiter);
    return () => {
      waiters.delete(waiter);
      if (waiters.size === 0 && this.byTaskId.get(externalTaskId) === waiters)
        this.byTaskId.delete(externalTaskId);
    };
  }

  /**
   * Resolves with the final record of `externalTaskId`: at once if `read` finds it final, else when
   * {@link resolve} hands it over. Rejects with {@link NotFoundError} when `read` finds nothing, with the
   * signal's reason when `signal` aborts, and with what `read` rejects with. Registers before reading, so
   * an outcome written in between is not missed; leaves nothing behind once settled.
   */
  wait(
    externalTaskId: string,
    signal: AbortSignal | undefined,
    read: () => Promise<ExternalTask | undefined>,
  ): Promise<ExternalTask> {
    return new Promise((resolve, reject) => {
      signal?.throwIfAborted();
      const onAbort = (): void => end(() => reject(signal?.reason as unknown));
      const remove = this.add(externalTaskId, {
        resolve: (task) => end(() => resolve(task)),
        reject: (error) => end(() => reject(error)),
      });
      const end = (answer: () => void): void => {
        remove();
        signal?.removeEventListener('abort', onAbort);
        answer();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      read().then(
        (task) => {
          if (!task) end(() => reject(new NotFoundError(externalTaskId)));
          else if (task.state !== 'pending') end(() => resolve(task));
        },
        (error: unknown) => end(() => reject(error)),
      );
    });
  }

  /** Hands the final record `task` to everyone waiting for it. */
  resolve(task: ExternalTask): void {
    const waiters = this.byTaskId.get(task.id);
    this.byTaskId.delete(task.id);
    for (const waiter of waiters ?? []) waiter.resolve(task);
  }

  /** Answers every waiter with `error`. */
  rejectAll(error: unknown): void {
    const all = [...this.byTaskId.values()];
    this.byTaskId.clear();
    for (const waiters of all) for (const waiter of waiters) waiter.reject(error);
  }
}
