import { NotFoundError } from '../errors/index.js';
import type { Logger } from '../logging/index.js';
import { frozenRecord, type ExternalTask } from '../model/index.js';

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
    if (waiters === undefined) return;
    this.byTaskId.delete(task.id);
    for (const waiter of waiters) waiter.resolve(task);
  }

  /**
   * Reads every awaited task again with `read` and hands over those that are final: after the feed that
   * announces outcomes missed some (it fell behind the store's retention). A failed read is logged.
   */
  async readAgain(
    read: (externalTaskId: string) => Promise<ExternalTask | undefined>,
    logger: Logger,
  ): Promise<void> {
    await Promise.all(
      this.taskIds().map(async (externalTaskId) => {
        try {
          const task = await read(externalTaskId);
          if (task && task.state !== 'pending') this.resolve(frozenRecord(task));
        } catch (error) {
          logger.error('Could not read an awaited task again after the change feed resynchronised.', {
            externalTaskId,
            error,
          });
        }
      }),
    );
  }

  /** Answers every waiter with `error`. */
  rejectAll(error: unknown): void {
    const all = [...this.byTaskId.values()];
    this.byTaskId.clear();
    for (const waiters of all) for (const waiter of waiters) waiter.reject(error);
  }
}
