import type { ExternalTask } from '../model/index.js';

/** Why the worker aborted a running handler. */
export type TaskAbortCode = 'LOCK_LOST' | 'WORKER_STOPPED';

/**
 * The reason a handler's `signal` carries when the worker gives up on the task (and the payload of the
 * `task:aborted` event). The handler's eventual result or error is dropped in both cases:
 * - `LOCK_LOST`: extending the lock answered 404, 410 or 423 — the task no longer exists, already has an
 *   outcome, or another worker holds it now. `cause` is the error `extendLock` answered. Also when the
 *   API announced that the engine cancelled the task (`task:cancelled`): `cause` is then a `GoneError`
 *   with `state: 'cancelled'`, as the next extension would have answered.
 * - `WORKER_STOPPED`: `stop()` was called and the handler outlived the stop grace period. The task's lock
 *   expires and another worker (or this one, restarted) fetches it again.
 */
export class TaskAbortedError extends Error {
  override readonly name = 'TaskAbortedError';

  constructor(
    /** Stable, for programs. */
    readonly code: TaskAbortCode,
    /** The id of the task whose handler was aborted. */
    readonly externalTaskId: string,
    options?: ErrorOptions,
  ) {
    super(
      code === 'LOCK_LOST'
        ? `The worker lost the lock of external task ${externalTaskId}; its handler was aborted.`
        : `The worker stopped before the handler of external task ${externalTaskId} ended; it was aborted.`,
      options,
    );
  }

  /** The reason for a lost lock. */
  static lockLost(task: ExternalTask, cause: unknown): TaskAbortedError {
    return new TaskAbortedError('LOCK_LOST', task.id, { cause });
  }

  /** The reason for a handler still running when the stop grace period ran out. */
  static workerStopped(task: ExternalTask): TaskAbortedError {
    return new TaskAbortedError('WORKER_STOPPED', task.id);
  }
}
