import type {
  ExternalTask,
  ExternalTaskFailure,
  ExternalTaskState,
  JsonValue,
  NewExternalTask,
  ServiceFailure,
} from '../model/index.js';

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

/** What a service error asks for: the remaining retries (absolute) and the delay before the next try. */
export interface RetryRequest {
  readonly retries: number;
  readonly retryTimeout: number;
}

/**
 * The outcome to write on a task held by `workerId`. A service failure with `retry.retries > 0` does not
 * end the task: it returns to `pending`, unlocked, available again after `retry.retryTimeout` ms, with
 * `retries` stored. Otherwise the task fails; the failure is an incident when the task had a retry budget
 * or `retry` was given (its retries ran out).
 */
export type TaskOutcome =
  | { readonly state: 'finished'; readonly result?: JsonValue }
  | { readonly state: 'failed'; readonly error: ExternalTaskFailure }
  | { readonly state: 'failed'; readonly error: ServiceFailure; readonly retry: RetryRequest };

/** Write the outcome of a task held by `workerId`. */
export interface CompleteRequest {
  readonly externalTaskId: string;
  readonly workerId: string;
  readonly outcome: TaskOutcome;
  readonly isVisible?: TaskVisibility;
}

/** Give a task held by `workerId` back without an outcome: unlocked and available at once. */
export interface UnlockRequest {
  readonly externalTaskId: string;
  readonly workerId: string;
  readonly isVisible?: TaskVisibility;
}

/** Which pending tasks {@link ExternalTaskRepository.cancel} ends: one task, or all of a flow node or process instance. */
export type CancelSelector =
  | { readonly externalTaskId: string }
  | { readonly flowNodeInstanceId: string }
  | { readonly processInstanceId: string };

/** A filter for {@link ExternalTaskRepository.query}; every given field must match. */
export interface ExternalTaskQuery {
  readonly state?: ExternalTaskState;
  readonly topic?: string;
  readonly processInstanceId?: string;
  readonly correlationId?: string;
  readonly flowNodeInstanceId?: string;
  /** Only failed tasks that are (or are not) incidents. */
  readonly incident?: boolean;
  /** Page size, 1 to 1,000. @default 100 */
  readonly limit?: number;
  /** How many matching tasks to skip. @default 0 */
  readonly offset?: number;
}

/** One page of a query, in creation order, with the number of all matching tasks. */
export interface ExternalTaskPage {
  readonly tasks: ExternalTask[];
  readonly total: number;
}

/** How many tasks of one topic are in which state. */
export interface TopicTaskCounts {
  readonly topic: string;
  /** Pending and available now. */
  readonly available: number;
  /** Pending and locked by a worker. */
  readonly locked: number;
  /** Pending and waiting for a retry to become due. */
  readonly retrying: number;
  /** Failed, incidents included. */
  readonly failed: number;
  /** Failed because the retries ran out. */
  readonly incidents: number;
  readonly finished: number;
  readonly cancelled: number;
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
export interface ExternalTaskChange {
  readonly type: ExternalTaskChangeType;
  readonly task: ExternalTask;
}

/**
 * - `created`, `locked`, `extended`, `finished`, `failed`, `cancelled`: what the name says;
 * - `unlocked`: the holder gave the task back (available now);
 * - `retryScheduled`: a service error left the task pending until `task.retryAt`;
 * - `lockExpired`: the store noticed that a lock ran out without an outcome (`task` still names the
 *   worker); `retryDue`: the store noticed that a scheduled retry came due. Both are noticed lazily,
 *   when the store next looks at the topic (a claim, `nextAvailableAt`, `countByTopic`), and the task is
 *   available from then on;
 * - `retriesSet`: the engine set the retry budget; an incident it resolves is available now.
 */
export type ExternalTaskChangeType =
  | 'created'
  | 'locked'
  | 'extended'
  | 'unlocked'
  | 'lockExpired'
  | 'retryScheduled'
  | 'retryDue'
  | 'retriesSet'
  | 'finished'
  | 'failed'
  | 'cancelled';

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

  /** Gives a held task back without an outcome, under the same condition as {@link extendLock}. */
  unlock(request: UnlockRequest): Promise<ConditionalWriteResult>;

  /**
   * For the engine: ends the selected tasks that are still pending (state `cancelled`, announced as
   * `cancelled`); a worker holding one gets 410 on its next call. Resolves to the number cancelled.
   */
  cancel(selector: CancelSelector): Promise<number>;

  /**
   * For the engine: sets a task's retry budget. On a pending task it replaces the budget; on a failed
   * task that is an incident, `retries > 0` brings it back to `pending`, available at once.
   * @throws {@link NotFoundError}, {@link GoneError} for any other final task, {@link BadRequestError}.
   */
  setRetries(externalTaskId: string, retries: number): Promise<ExternalTask>;

  /** For the engine and operators: matching tasks, one page at a time, in creation order. */
  query(filter: ExternalTaskQuery): Promise<ExternalTaskPage>;

  /** Counts per topic and state, from indexes (no scan of tasks). All topics when none are named. */
  countByTopic(topicNames?: readonly string[]): Promise<TopicTaskCounts[]>;

  /**
   * The earliest time at which a pending task of these topics that is not available now becomes
   * available (its lock expires, or its retry becomes due), or `undefined` if there is none. Long polls
   * use it to wake on time.
   */
  nextAvailableAt(topicNames: readonly string[]): Promise<Date | undefined>;

  /** Starts announcing changes to `listener`; returns the function that stops it. */
  subscribe(listener: ExternalTaskChangeListener): () => void;
}
