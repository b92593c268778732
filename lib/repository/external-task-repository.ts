import type {
  ExternalTask,
  ExternalTaskFailure,
  JsonValue,
  NewExternalTask,
  ServiceFailure,
} from '../model/index.js';
import type {
  EngineWriteResult,
  FinalTaskSelector,
  SetRetriesOptions,
  SetRetriesResult,
} from './engine-controls.js';
import type { ExternalTaskPage, ExternalTaskQuery, TaskCountFilter, TopicTaskCounts } from './task-query.js';
import type { ConsumerLeases } from './consumer-leases.js';

export type {
  EngineWriteResult,
  FinalTaskSelector,
  SetRetriesOptions,
  SetRetriesResult,
} from './engine-controls.js';
export type { ExternalTaskPage, ExternalTaskQuery, TaskCountFilter, TopicTaskCounts } from './task-query.js';

/**
 * What a caller may see, as data every store evaluates inside its atomic step (a claim, a conditional
 * write): a task is in scope when every given list contains the task's value. A task without a tenant
 * (or without a process model) is outside a scope that lists tenants (or process models). An empty list
 * sees nothing; no scope at all sees everything.
 */
export interface TaskScope {
  readonly tenantIds?: readonly string[] | undefined;
  readonly processModelIds?: readonly string[] | undefined;
}

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
  /** Tasks outside it are neither claimed nor changed. @default everything */
  readonly scope?: TaskScope;
}

/** Who asks to write a task it must hold: the task, the worker, and what the caller may see. */
export interface HeldTaskRequest {
  readonly externalTaskId: string;
  readonly workerId: string;
  /** A task outside it answers `not-found`. @default everything */
  readonly scope?: TaskScope;
}

/** Set the lock of a task held by `workerId` to now + `lockDuration`. */
export interface ExtendLockRequest extends HeldTaskRequest {
  readonly lockDuration: number;
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
export interface CompleteRequest extends HeldTaskRequest {
  readonly outcome: TaskOutcome;
}

/** Give a task held by `workerId` back without an outcome: unlocked and available at once. */
export type UnlockRequest = HeldTaskRequest;

/** Which pending tasks {@link ExternalTaskRepository.cancel} ends: one task, or all of a flow node or process instance. */
export type CancelSelector =
  | { readonly externalTaskId: string }
  | { readonly flowNodeInstanceId: string }
  | { readonly processInstanceId: string };

/**
 * The answer of a conditional write. The check and the write happen in one atomic step, so `ok` means
 * the write happened and any other status means nothing changed:
 * - `not-found`: no such task (or outside the caller's scope);
 * - `gone`: the task is final (`task` is its current record);
 * - `locked`: the task's most recent lock is not the requesting worker's (`task` shows whose, if anyone's).
 */
export type ConditionalWriteResult =
  | { readonly status: 'ok'; readonly task: ExternalTask }
  | { readonly status: 'not-found' }
  | { readonly status: 'gone'; readonly task: ExternalTask }
  | { readonly status: 'locked'; readonly task: ExternalTask };

/**
 * A position in a store's change feed: positions increase with every change, in the order the changes
 * took effect. `0` comes before every change.
 */
export type ChangePosition = number;

/**
 * The fields every change carries.
 * @inline
 */
interface ChangeBase {
  /** Where the change sits in the feed. */
  readonly position: ChangePosition;
  /** The record after the change. */
  readonly task: ExternalTask;
}

/**
 * A change in a store's feed: what happened to which task, at which position.
 * - `created`, `locked`, `extended`, `finished`, `failed`, `cancelled`: what the name says;
 * - `unlocked`: the holder gave the task back, or the engine took it from its holder with `forceUnlock`
 *   (available now);
 * - `lockExpired`: a claim took over a task whose lock had run out without an outcome (`task` is the
 *   record before that claim: it still names the worker whose lock expired); a `locked` change follows;
 * - `retryScheduled`: a service error left the task pending until `task.retryAt`;
 * - `retryDue`: a claim took a task whose scheduled retry had come due; a `locked` change follows;
 * - `retriesSet`: the engine set the retry budget; an incident it resolves is pending again, available
 *   now or at `task.retryAt` when a retry delay was given;
 * - `prioritySet`: the engine changed the priority of a pending task.
 */
export type ExternalTaskChange =
  | (ChangeBase & {
      readonly type:
        | 'created'
        | 'locked'
        | 'extended'
        | 'unlocked'
        | 'lockExpired'
        | 'retryDue'
        | 'retriesSet'
        | 'prioritySet'
        | 'cancelled';
    })
  | (ChangeBase & { readonly type: 'finished'; readonly result: JsonValue | undefined })
  | (ChangeBase & {
      readonly type: 'failed';
      readonly error: ExternalTaskFailure;
      readonly incident: boolean;
    })
  | (ChangeBase & { readonly type: 'retryScheduled'; readonly error: ExternalTaskFailure });

/** The type of an {@link ExternalTaskChange}. */
export type ExternalTaskChangeType = ExternalTaskChange['type'];

/**
 * Told to a subscriber when the feed could not deliver a stretch of changes — it fell behind the store's
 * retention while it was slow. Changes after `lastDelivered` up to and including `resumedAfter` are
 * lost to it; delivery goes on after `resumedAfter`. The subscriber must re-read what it keeps (e.g.
 * the tasks it waits for) rather than trust the feed for that stretch.
 */
export interface ChangeFeedResync {
  readonly lastDelivered: ChangePosition;
  readonly resumedAfter: ChangePosition;
}

/** Who receives a store's changes, and from where. */
export interface ChangeSubscriber {
  /**
   * Deliver the changes after this position (a position a subscriber handled before, kept across a
   * restart). A position older than the store retains rejects the subscription with
   * `ChangeFeedRetentionError`, never a silent gap. @default the current end: changes from now on
   */
  readonly after?: ChangePosition | undefined;
  /**
   * Receives each change once, in order. A returned promise is awaited before the next change is
   * delivered. A throw or rejection is reported to the store's logger and delivery goes on — unless the
   * subscriber has {@link onHalt}.
   */
  onChange(change: ExternalTaskChange): void | Promise<void>;
  /**
   * `true` promises that `onChange` never answers a promise: it has done its work when it returns. A
   * store may then call it without carrying a record of the call into the async work it starts, which it
   * otherwise does so that a `close()` from that work does not wait for itself (in Node 20 that record
   * makes every promise of the process pay an async hook). A promise it answers anyway is still awaited
   * before the next change, but a `close()` from the work behind that promise would wait for itself.
   * @default false
   */
  readonly synchronous?: boolean | undefined;
  /**
   * The feed had to resynchronise (see {@link ChangeFeedResync}). Without it, the gap halts a subscriber
   * with {@link onHalt} (with a `ChangeFeedRetentionError`) and is logged for the others.
   */
  onResync?(resync: ChangeFeedResync): void | Promise<void>;
  /**
   * Makes the feed stop at a failure instead of skipping it, for subscribers that must not miss a change
   * (an engine consuming outcomes durably): when `onChange` throws or rejects, or the feed fell behind
   * without `onResync`, the feed closes before delivering anything else, its `position` stays before the
   * failed change, and this is called with the error and that change (none for a gap). Resubscribing
   * `after` the position kept delivers the failed change again.
   */
  onHalt?(error: unknown, change: ExternalTaskChange | undefined): void;
}

/** An open subscription to a store's change feed. */
export interface ChangeFeed {
  /** The position of the last change delivered (or the start position, before the first). */
  readonly position: ChangePosition;
  /** Stops delivery; resolves once no delivery is in progress. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * A lossy wake-up hint: tasks of `topic` become available after `delay` ms as the store's clock counts
 * (0: now). `count` is how many, where the store knows it. Hints only wake long polls, which then ask
 * the store; a lost or spurious hint costs a late or a needless claim, never a wrong answer.
 */
export interface AvailabilityHint {
  readonly topic: string;
  readonly delay: number;
  readonly count?: number;
}

/**
 * Receives hints, coalesced: one per topic per store operation. Stores send one when tasks become
 * available now (created, unlocked, force-unlocked, an incident revived), when a claim or a retry sets a time at which
 * they will (the lock's expiry, the retry's due time), and when a lock is shortened — not when a lock
 * is lengthened, which makes nothing available sooner. Must not throw.
 */
export type AvailabilityListener = (hints: readonly AvailabilityHint[]) => void;

/** An open availability watch. */
export interface AvailabilityWatch {
  /** Stops the hints. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * The store of external tasks: the source of truth, and the one place where state changes happen.
 *
 * Every write that must not race is a single conditional operation here (compare-and-set), never a read
 * followed by a write elsewhere. Scopes are data the store evaluates inside that step. Reads never write.
 * "Now" is the store's own clock. The facade ({@link ExternalTaskApi}) owns validation, access and long
 * polling, and depends only on this interface; every adapter passes the same contract suite
 * (`describeRepositoryContract` from `external-task-api/testing`).
 *
 * The store announces in two ways: lossy, coalesced {@link AvailabilityHint}s that wake long polls, and
 * an ordered, positioned, resumable change feed ({@link subscribe}) that the facade turns into events
 * and outcome waits.
 *
 * Error style: state-dependent answers of writes on one task are statuses ({@link ConditionalWriteResult},
 * {@link EngineWriteResult}); invalid arguments reject with {@link BadRequestError} naming the argument and
 * change nothing; failures of the store itself reject with what went wrong.
 *
 * The engine side (`create`, `createMany`, `getById`, `cancel`, `setRetries`, `forceUnlock`,
 * `setPriority`, `deleteFinalTasks`, `query`, `countByTopic`) is trusted code: no access policy applies.
 */
export interface ExternalTaskRepository {
  /**
   * Stores a new pending task. With an `idempotencyKey` that a stored task already has (whatever its
   * state), stores nothing, announces nothing and answers that task's current record instead — also when
   * two creates with the key race: exactly one task is stored.
   * @throws `BadRequestError` naming the argument when the input is invalid; nothing is stored then.
   */
  create(task: NewExternalTask): Promise<ExternalTask>;

  /**
   * Stores several new pending tasks in one atomic step, all or none, in the given order (equal
   * priorities are handed out in that order). Announced with one hint per topic. A task whose
   * `idempotencyKey` is taken (by a stored task or an earlier one of the list) answers that task, as
   * `create` does.
   * @throws `BadRequestError` naming the argument (e.g. `tasks[3].topic`); nothing is stored then.
   */
  createMany(tasks: readonly NewExternalTask[]): Promise<ExternalTask[]>;

  /** The task's current record, or `undefined`. */
  getById(externalTaskId: string): Promise<ExternalTask | undefined>;

  /**
   * Locks and returns up to `maxTasks` tasks in scope that are available now (pending, and never locked,
   * or with a lock expired by the store's clock at this moment, or with a retry due), highest priority
   * first, then oldest first. No task is ever returned to two claims whose locks overlap. Each claimed
   * task's `attempts` grows by one.
   */
  claim(request: ClaimRequest): Promise<ExternalTask[]>;

  /** Extends a lock, if the task is pending and its most recent lock is the worker's (expired or not). */
  extendLock(request: ExtendLockRequest): Promise<ConditionalWriteResult>;

  /** Writes an outcome, under the same condition as {@link extendLock}; exactly one of racing writes wins. */
  complete(request: CompleteRequest): Promise<ConditionalWriteResult>;

  /** Gives a held task back without an outcome, under the same condition as {@link extendLock}. */
  unlock(request: UnlockRequest): Promise<ConditionalWriteResult>;

  /**
   * For the engine: ends the selected tasks that are still pending (state `cancelled`); a worker holding
   * one gets 410 on its next call. Resolves to the number cancelled (0 when none matched or none was
   * pending: a selector is a filter, not a reference to one task that must exist).
   */
  cancel(selector: CancelSelector): Promise<number>;

  /**
   * For the engine: sets a task's retry budget. On a pending task it replaces the budget; on a failed
   * task that is an incident, `retries > 0` brings it back to `pending`, available at once — or after
   * `options.retryTimeout` (see {@link SetRetriesOptions}). Any other final task answers `gone`.
   */
  setRetries(externalTaskId: string, retries: number, options?: SetRetriesOptions): Promise<SetRetriesResult>;

  /**
   * For the engine: takes a pending task from the worker that holds it (its lock live or run out, e.g. a
   * worker that died), available at once: no lock, no `workerId`, so the old holder's next write answers
   * `locked`. Announced `unlocked`. A pending task nobody holds answers `ok` unchanged, announcing
   * nothing; a final task answers `gone`.
   */
  forceUnlock(externalTaskId: string): Promise<EngineWriteResult>;

  /**
   * For the engine: sets the priority (a safe integer) of a pending task, which takes its new place in
   * the hand-out order at once; its lock, if any, stays. Announced `prioritySet`; a final task answers
   * `gone`.
   */
  setPriority(externalTaskId: string, priority: number): Promise<EngineWriteResult>;

  /**
   * For the engine: deletes the final (finished, failed, cancelled) tasks of a process instance, as the
   * final-task retention does after its time; pending ones stay (cancel them first). Announces nothing;
   * resolves to the number deleted.
   */
  deleteFinalTasks(selector: FinalTaskSelector): Promise<number>;

  /** For the engine and operators: matching tasks, one page at a time, in creation order. */
  query(filter: ExternalTaskQuery): Promise<ExternalTaskPage>;

  /**
   * Counts per topic and state, from indexes where the store has them. Accepts the topic names as an
   * array, as the first edition did.
   */
  countByTopic(filter?: TaskCountFilter | readonly string[]): Promise<TopicTaskCounts[]>;

  /**
   * How long, in ms by the store's clock, until a pending task of these topics in `scope` is available:
   * `0` if one is available now (never locked, lock expired, retry due); else until the earliest lock in
   * scope expires or retry in scope comes due; `undefined` if none will be without a new change. Long
   * polls use it to wake on time; it is relative so that a process whose clock differs from the store's
   * still wakes on time, and scoped so that tasks a waiter may not take do not wake it again and again.
   */
  msUntilNextAvailable(topicNames: readonly string[], scope?: TaskScope): Promise<number | undefined>;

  /** Starts sending availability hints to `listener`. */
  watchAvailability(listener: AvailabilityListener): Promise<AvailabilityWatch>;

  /**
   * Opens a subscription to the change feed. Resolves once the subscription is live: every change that
   * takes effect afterwards (and, with `after`, every retained change after that position) is delivered
   * exactly once, in order.
   * @throws `ChangeFeedRetentionError` when `after` is older than what the store retains.
   */
  subscribe(subscriber: ChangeSubscriber): Promise<ChangeFeed>;

  /** The position of the latest change (0 if none yet). */
  currentPosition(): Promise<ChangePosition>;

  /**
   * Optional: named consumers' stored positions and leases (see {@link ConsumerLeases}), which
   * `api.consumeOutcomes({ consumer })` needs; a store without them refuses that form. A store has all
   * three operations or none.
   */
  readonly consumerLeases?: ConsumerLeases | undefined;
}

/** A change before the store gave it its position: what a store records, to be positioned by its feed. */
export type UnpositionedChange = ExternalTaskChange extends infer C
  ? C extends ExternalTaskChange
    ? Omit<C, 'position'>
    : never
  : never;
