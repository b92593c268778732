import type { ExternalTask, ExternalTaskFailure, JsonValue, NewExternalTask } from '../model/index.js';

/** Decides whether a caller may see a task; given by the facade from its access policy. Must not throw. */
export type TaskVisibility = (task: ExternalTask) => boolean;

/** One topic of a claim, with the lock duration tasks of this topic get. */
export interface TopicClaim {
  readonly topicName: string;
  readonly lockDuration: number;
}

/** Claim up to `maxTasks` available tasks across `topics` for `workerId`, in one atomic step. */
export interface ClaimRequest {
  readonly workerId: string;
  readonly topics: readonly TopicClaim[];
  readonly maxTasks: number;
  /** Tasks for which this answers false are neither claimed nor changed. */
  readonly isVisible?: TaskVisibility;
}

/** Set the lock of a task held by `workerId` to now + `lockDuration`. */
export interface ExtendLockRequest {
  readonly externalTaskId: string;
  readonly workerId: string;
  readonly lockDuration: number;
  readonly isVisible?: TaskVisibility;
}

/** The outcome to write on a task held by `workerId`. */
export type TaskOutcome =
  | { readonly state: 'finished'; readonly result?: JsonValue }
  | { readonly state: 'failed'; readonly error: ExternalTaskFailure };

/** Write the outcome of a task held by `workerId`. */
export interface CompleteRequest {
  readonly externalTaskId: string;
  readonly workerId: string;
  readonly outcome: TaskOutcome;
  readonly isVisible?: TaskVisibility;
}

/**
 * The answer of a conditional write. The check and the write happen in one atomic step, so `ok` means
 * the write happened and any other status means nothing changed:
 * - `not-found`: no such task (or not visible to the caller);
 * - `gone`: the task is final (`task` is its current record);
 * - `locked`: the task's most recent lock is not the requesting worker's (`task` shows whose, if anyone's).
 */
export type ConditionalWriteResult =
  | { readonly status: 'ok'; readonly task: ExternalTask }
  | { readonly status: 'not-found' }
  | { readonly status: 'gone'; readonly task: ExternalTask }
  | { readonly status: 'locked'; readonly task: ExternalTask };

/**
 * A change the store announces after it happened. `task` is the record after the change. A repository
 * shared by several processes announces every change to every process attached to it.
 */
export type ExternalTaskChange =
  | { readonly type: 'created'; readonly task: ExternalTask }
  | { readonly type: 'locked'; readonly task: ExternalTask }
  | { readonly type: 'extended'; readonly task: ExternalTask }
  | { readonly type: 'finished'; readonly task: ExternalTask }
  | { readonly type: 'failed'; readonly task: ExternalTask };

/** Receives the store's changes. Must not throw (a repository contains and reports it if it does). */
export type ExternalTaskChangeListener = (change: ExternalTaskChange) => void;

/**
 * The store of external tasks: the source of truth, and the one place where state changes happen.
 *
 * Every write that must not race is a single conditional operation here (compare-and-set), never a read
 * followed by a write elsewhere. The facade ({@link ExternalTaskApi}) owns validation, access and long
 * polling, and depends only on this interface; every adapter passes the same behaviour suite.
 *
 * The engine side (`create`, `getById`) is trusted in-process code: no access policy applies.
 */
export interface ExternalTaskRepository {
  /**
   * Stores a new pending task and announces it.
   * @throws {@link BadRequestError} naming the argument when the input is invalid; nothing is stored then.
   */
  create(task: NewExternalTask): Promise<ExternalTask>;

  /** The task's current record, or `undefined`. */
  getById(externalTaskId: string): Promise<ExternalTask | undefined>;

  /**
   * Locks and returns up to `maxTasks` tasks that are available now (pending, and never locked or with an
   * expired lock), highest priority first, then oldest first. No task is ever returned to two claims
   * whose locks overlap.
   */
  claim(request: ClaimRequest): Promise<ExternalTask[]>;

  /** Extends a lock, if the task is pending and its most recent lock is the worker's (expired or not). */
  extendLock(request: ExtendLockRequest): Promise<ConditionalWriteResult>;

  /** Writes an outcome, under the same condition as {@link extendLock}; exactly one of racing writes wins. */
  complete(request: CompleteRequest): Promise<ConditionalWriteResult>;

  /**
   * The earliest time at which a pending task of these topics that is not available now becomes
   * available (its lock expires), or `undefined` if there is none. Long polls use it to wake on time.
   */
  nextAvailableAt(topicNames: readonly string[]): Promise<Date | undefined>;

  /** Starts announcing changes to `listener`; returns the function that stops it. */
  subscribe(listener: ExternalTaskChangeListener): () => void;
}
