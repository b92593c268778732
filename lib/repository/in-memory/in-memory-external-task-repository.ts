import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../../clock/index.js';
import { consoleLogger, type Logger } from '../../logging/index.js';
import type { ExternalTask, ExternalTaskState, NewExternalTask } from '../../model/index.js';
import { limits, requireInteger, requireString } from '../../validation/index.js';
import type {
  AvailabilityListener,
  AvailabilityWatch,
  CancelSelector,
  ChangeFeed,
  ChangePosition,
  ChangeSubscriber,
  ClaimRequest,
  CompleteRequest,
  ConditionalWriteResult,
  ExtendLockRequest,
  ExternalTaskPage,
  ExternalTaskQuery,
  ExternalTaskRepository,
  HeldTaskRequest,
  SetRetriesResult,
  TaskCountFilter,
  TaskScope,
  TopicTaskCounts,
  UnlockRequest,
} from '../external-task-repository.js';
import {
  validateCancelSelector,
  validateCountFilter,
  validateNewTask,
  validateNewTasks,
  validateQuery,
  validateScope,
  type ValidNewTask,
} from '../repository-arguments.js';
import { inScope } from '../task-scope.js';
import { AvailabilityAnnouncer } from '../availability-announcer.js';
import { ChangeLog } from './change-log.js';
import { FinalTaskRetention } from './final-task-retention.js';
import { newStoredTask, toSnapshot, type StoredTask } from './stored-task.js';
import { matches, TaskIndexes } from './task-indexes.js';
import { OperationEffects, type ChangeFields } from './operation-effects.js';
import { countTenantTasks } from './tenant-counts.js';
import { compareHandOutOrder, pendingState, TopicQueues } from './topic-queues.js';

/** Options of {@link InMemoryExternalTaskRepository}. */
export interface InMemoryExternalTaskRepositoryOptions {
  /** Where "now" comes from (lock expiry, retries, timestamps). @default systemClock */
  readonly clock?: Clock | undefined;
  /** Receives failures of change subscribers and availability listeners. @default consoleLogger */
  readonly logger?: Logger | undefined;
  /**
   * How long a finished, failed or cancelled task is kept after it ended, in ms; then it is forgotten
   * (`getById` answers `undefined`, queries and counts no longer include it). Keeps a long-running
   * process's memory bounded. @default Infinity (kept for the life of the store)
   */
  readonly finalTaskRetention?: number | undefined;
  /**
   * How many of the latest changes the change feed keeps for subscribers that resume from a position
   * (and for slow subscribers). A resume from further back is refused with
   * {@link ChangeFeedRetentionError}. @default 10,000
   */
  readonly changeRetention?: number | undefined;
}

/**
 * The embedded store: all tasks in this process's memory, indexed per topic so that claiming `k` of `n`
 * tasks costs O(k log n), with secondary indexes for queries and cancellation. Every operation runs to
 * completion without yielding between its check and its write, which makes each one atomic in a single
 * Node process. Changes are announced to subscribers after the operation has been applied.
 *
 * @example
 * ```ts
 * const repository = new InMemoryExternalTaskRepository();
 * const task = await repository.create({
 *   topic: 'send-invoice', correlationId: 'c-1', processInstanceId: 'pi-1', flowNodeInstanceId: 'fni-1',
 *   payload: { amount: 42 },
 * });
 * ```
 */
export class InMemoryExternalTaskRepository implements ExternalTaskRepository {
  private readonly clock: Clock;
  private readonly tasks = new Map<string, StoredTask>();
  private readonly topics = new Map<string, TopicQueues>();
  private readonly indexes = new TaskIndexes();
  private readonly log: ChangeLog;
  private readonly availability: AvailabilityAnnouncer;
  private readonly retention: FinalTaskRetention;
  private sequence = 0;

  constructor(options: InMemoryExternalTaskRepositoryOptions = {}) {
    this.clock = options.clock ?? systemClock;
    const logger = options.logger ?? consoleLogger;
    const retention = options.finalTaskRetention ?? Infinity;
    if (retention !== Infinity) requireInteger('finalTaskRetention', retention, 0, Number.MAX_SAFE_INTEGER);
    this.retention = new FinalTaskRetention(retention);
    const changeRetention = requireInteger(
      'changeRetention',
      options.changeRetention ?? 10_000,
      1,
      Number.MAX_SAFE_INTEGER,
    );
    this.log = new ChangeLog(changeRetention, logger);
    this.availability = new AvailabilityAnnouncer(logger);
  }

  create(input: NewExternalTask): Promise<ExternalTask> {
    return this.operation((effects) => this.store(effects, validateNewTask(input)));
  }

  createMany(inputs: readonly NewExternalTask[]): Promise<ExternalTask[]> {
    return this.operation((effects) => validateNewTasks(inputs).map((valid) => this.store(effects, valid)));
  }

  getById(externalTaskId: string): Promise<ExternalTask | undefined> {
    return this.operation(() => {
      const task = this.tasks.get(externalTaskId);
      return task && toSnapshot(task);
    });
  }

  claim(request: ClaimRequest): Promise<ExternalTask[]> {
    return this.operation((effects) => {
      const scope = validateScope(request.scope);
      const now = this.clock.now();
      const topics = request.topics.flatMap(({ topicName, lockDuration }) => {
        const queues = this.topics.get(topicName);
        queues?.promoteDue(now);
        return queues ? [{ queues, lockDuration }] : [];
      });
      const claimed: ExternalTask[] = [];
      const skipped: { queues: TopicQueues; task: StoredTask }[] = [];
      while (claimed.length < request.maxTasks) {
        let best: { queues: TopicQueues; lockDuration: number; task: StoredTask } | undefined;
        for (const topic of topics) {
          const task = topic.queues.peekReady();
          if (task && (!best || compareHandOutOrder(task, best.task) < 0)) best = { ...topic, task };
        }
        if (!best) break;
        const { queues, lockDuration, task } = best;
        // Locks and retries are checked against the time now, whatever was promoted before: a clock that
        // stepped back puts a task that waits again back where it belongs.
        const state = pendingState(task, now);
        if (state !== 'available') {
          if (state === 'locked') queues.makeLocked(task);
          else queues.makeDelayed(task);
          continue;
        }
        if (!inScope(task, scope)) {
          queues.detach(task);
          skipped.push({ queues, task });
          continue;
        }
        if (task.lockExpirationTime !== undefined) effects.changed({ type: 'lockExpired' }, task);
        else if (task.retryAt !== undefined) effects.changed({ type: 'retryDue' }, task);
        task.workerId = request.workerId;
        task.lockExpirationTime = now + lockDuration;
        task.retryAt = undefined;
        task.attempts++;
        queues.makeLocked(task);
        effects.hint(task.topic, lockDuration);
        claimed.push(effects.changed({ type: 'locked' }, task));
      }
      for (const { queues, task } of skipped) queues.makeReady(task);
      return claimed;
    });
  }

  extendLock(request: ExtendLockRequest): Promise<ConditionalWriteResult> {
    return this.operation((effects) =>
      this.writeHeldTask(effects, request, (task) => {
        const previous = task.lockExpirationTime;
        task.lockExpirationTime = this.clock.now() + request.lockDuration;
        this.queuesOf(task.topic).makeLocked(task);
        // Only a shortened lock can make the task available sooner than a waiting poll expects.
        if (previous !== undefined && task.lockExpirationTime < previous)
          effects.hint(task.topic, request.lockDuration);
        return { type: 'extended' };
      }),
    );
  }

  unlock(request: UnlockRequest): Promise<ConditionalWriteResult> {
    return this.operation((effects) =>
      this.writeHeldTask(effects, request, (task) => {
        task.workerId = undefined;
        task.lockExpirationTime = undefined;
        this.queuesOf(task.topic).makeReady(task);
        effects.hint(task.topic, 0);
        return { type: 'unlocked' };
      }),
    );
  }

  complete(request: CompleteRequest): Promise<ConditionalWriteResult> {
    return this.operation((effects) =>
      this.writeHeldTask(effects, request, (task) => {
        const { outcome } = request;
        const now = this.clock.now();
        task.lockExpirationTime = undefined;
        if (outcome.state === 'finished') {
          task.result = outcome.result;
          task.error = undefined; // an earlier failure that was retried is not this task's outcome
          task.retryAt = undefined;
          this.end(task, 'finished', now);
          return { type: 'finished', result: outcome.result };
        }
        task.error = outcome.error;
        const retry = 'retry' in outcome ? outcome.retry : undefined;
        if (retry && retry.retries > 0) {
          task.workerId = undefined;
          task.retries = retry.retries;
          task.retryAt = now + retry.retryTimeout;
          this.queuesOf(task.topic).makeDelayed(task);
          effects.hint(task.topic, retry.retryTimeout);
          return { type: 'retryScheduled', error: outcome.error };
        }
        if (outcome.error.type === 'service' && (retry || task.retries !== undefined)) {
          task.retries = 0;
          task.incident = true;
        }
        this.end(task, 'failed', now);
        return { type: 'failed', error: outcome.error, incident: task.incident === true };
      }),
    );
  }

  cancel(selector: CancelSelector): Promise<number> {
    return this.operation((effects) => {
      let cancelled = 0;
      for (const task of this.select(selector)) {
        if (task.state !== 'pending') continue;
        task.lockExpirationTime = undefined;
        task.retryAt = undefined;
        this.end(task, 'cancelled', this.clock.now());
        effects.changed({ type: 'cancelled' }, task);
        cancelled++;
      }
      return cancelled;
    });
  }

  setRetries(externalTaskId: string, retries: number): Promise<SetRetriesResult> {
    return this.operation((effects): SetRetriesResult => {
      requireString('externalTaskId', externalTaskId);
      requireInteger('retries', retries, 0, limits.maxRetries);
      const task = this.tasks.get(externalTaskId);
      if (!task) return { status: 'not-found' };
      if (task.state === 'failed' && task.incident === true && retries > 0) {
        const queues = this.queuesOf(task.topic);
        queues.countFinal(task, -1);
        task.incident = undefined;
        task.finishedAt = undefined;
        task.workerId = undefined; // a fresh start: the worker that failed it holds nothing
        this.setState(task, 'pending');
        queues.makeReady(task);
        effects.hint(task.topic, 0);
      } else if (task.state !== 'pending' && task.incident !== true) {
        return { status: 'gone', task: toSnapshot(task) };
      }
      task.retries = retries;
      return { status: 'ok', task: effects.changed({ type: 'retriesSet' }, task) };
    });
  }

  query(filter: ExternalTaskQuery): Promise<ExternalTaskPage> {
    return this.operation(() => {
      const { limit, offset } = validateQuery(filter);
      const candidates = this.indexes.candidates(filter) ?? this.tasks.values();
      const found = [...candidates].filter((task) => matches(task, filter));
      found.sort((a, b) => a.sequence - b.sequence);
      return { tasks: found.slice(offset, offset + limit).map(toSnapshot), total: found.length };
    });
  }

  countByTopic(filter?: TaskCountFilter | readonly string[]): Promise<TopicTaskCounts[]> {
    return this.operation(() => {
      const { topics, tenantId } = validateCountFilter(filter);
      const now = this.clock.now();
      if (tenantId !== undefined)
        return countTenantTasks(this.indexes.find('tenantId', tenantId), topics, now);
      return (topics ?? [...this.topics.keys()]).map((topic) => {
        const queues = this.topics.get(topic) ?? new TopicQueues();
        return { topic, ...queues.pendingCounts(now), ...queues.finals };
      });
    });
  }

  msUntilNextAvailable(topicNames: readonly string[], scope?: TaskScope): Promise<number | undefined> {
    return this.operation(() => {
      const now = this.clock.now();
      let earliest: number | undefined;
      for (const topicName of topicNames) {
        const next = this.topics.get(topicName)?.msUntilAvailable(now, scope);
        if (next !== undefined && (earliest === undefined || next < earliest)) earliest = next;
      }
      return earliest;
    });
  }

  watchAvailability(listener: AvailabilityListener): Promise<AvailabilityWatch> {
    return this.operation(() => this.availability.watch(listener));
  }

  subscribe(subscriber: ChangeSubscriber): Promise<ChangeFeed> {
    return this.operation(() => this.log.subscribe(subscriber));
  }

  currentPosition(): Promise<ChangePosition> {
    return this.operation(() => this.log.currentPosition);
  }

  /** Stores one checked new task; part of `create` and `createMany`. */
  private store(effects: OperationEffects, valid: ValidNewTask): ExternalTask {
    const task = newStoredTask(valid, randomUUID(), this.clock.now(), this.sequence++);
    this.tasks.set(task.id, task);
    this.indexes.add(task);
    this.queuesOf(task.topic).makeReady(task);
    effects.hint(task.topic, 0);
    return effects.changed({ type: 'created' }, task);
  }

  /**
   * The one check every conditional write shares — the task exists and is in scope, is pending, and its
   * most recent lock is `workerId`'s — followed by `write` in the same synchronous step.
   */
  private writeHeldTask(
    effects: OperationEffects,
    { externalTaskId, workerId, scope }: HeldTaskRequest,
    write: (task: StoredTask) => ChangeFields,
  ): ConditionalWriteResult {
    const validScope = validateScope(scope);
    const task = this.tasks.get(externalTaskId);
    if (!task || !inScope(task, validScope)) return { status: 'not-found' };
    if (task.state !== 'pending') return { status: 'gone', task: toSnapshot(task) };
    if (task.workerId !== workerId) return { status: 'locked', task: toSnapshot(task) };
    return { status: 'ok', task: effects.changed(write(task), task) };
  }

  /** Moves a pending task to a final state. */
  private end(task: StoredTask, state: 'finished' | 'failed' | 'cancelled', now: number): void {
    const queues = this.queuesOf(task.topic);
    queues.detach(task);
    task.finishedAt = now;
    this.setState(task, state);
    queues.countFinal(task, 1);
    this.retention.track(task);
  }

  /** Removes a final task whose retention ran out, from the store, its indexes and its topic's counts. */
  private forget(task: StoredTask): void {
    // A task that ended twice in the same millisecond (an incident revived and failed again) has two
    // retention entries; only the first may count.
    if (this.tasks.get(task.id) !== task) return;
    this.tasks.delete(task.id);
    this.indexes.remove(task);
    this.queuesOf(task.topic).countFinal(task, -1);
  }

  private setState(task: StoredTask, state: ExternalTaskState): void {
    const previous = task.state;
    task.state = state;
    this.indexes.changeState(task, previous);
  }

  private select(selector: CancelSelector): Iterable<StoredTask> {
    const { field, value } = validateCancelSelector(selector);
    if (field !== 'externalTaskId') return [...this.indexes.find(field, value)];
    const task = this.tasks.get(value);
    return task ? [task] : [];
  }

  private queuesOf(topic: string): TopicQueues {
    let queues = this.topics.get(topic);
    if (!queues) {
      queues = new TopicQueues();
      this.topics.set(topic, queues);
    }
    return queues;
  }

  /**
   * Runs one store operation synchronously (so it is atomic), then hands its hints and changes out, and
   * its outcome as a promise (errors reject; an operation that throws changes nothing).
   */
  private operation<T>(body: (effects: OperationEffects) => T): Promise<T> {
    const effects = new OperationEffects();
    for (const task of this.retention.takeExpired(this.clock.now())) this.forget(task);
    let result: T;
    try {
      result = body(effects);
    } catch (error) {
      return Promise.reject(error);
    }
    this.availability.announce(effects.hints);
    this.log.append(effects.changes);
    return Promise.resolve(result);
  }
}
