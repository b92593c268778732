import { clockMethods, systemClock, type Clock } from '../../clock/index.js';
import { consoleLogger, loggerMethods } from '../../logging/index.js';
import type { ExternalTask, NewExternalTask } from '../../model/index.js';
import { renamedOption, requireInteger, requireMethods, requireObject } from '../../validation/index.js';
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
  EngineWriteResult,
  ExtendLockRequest,
  ExternalTaskPage,
  ExternalTaskQuery,
  ExternalTaskRepository,
  FinalTaskSelector,
  HeldTaskRequest,
  SetRetriesOptions,
  SetRetriesResult,
  TaskCountFilter,
  TaskOutcome,
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
  validateRequestShape,
  validateTopicNames,
  type ValidNewTask,
} from '../repository-arguments.js';
import { inScope } from '../task-scope.js';
import { AvailabilityAnnouncer } from '../availability-announcer.js';
import { checkFinalTaskRetention } from '../final-task-retention-option.js';
import type { ConsumerLeases } from '../consumer-leases.js';
import { ChangeLog } from './change-log.js';
import { InMemoryConsumerLeases } from './consumer-leases.js';
import { deleteFinalTasks, forceUnlock, setPriority, setRetries } from './engine-controls.js';
import type { StoredTask } from './stored-task.js';
import { taskRecord } from './task-record.js';
import { matches } from './task-indexes.js';
import { newTaskId } from './task-id.js';
import { TaskTable } from './task-table.js';
import { OperationEffects } from './operation-effects.js';
import { countTenantTasks } from './tenant-counts.js';
import { compareHandOutOrder, pendingState, TopicQueues } from './topic-queues.js';
import type { InMemoryExternalTaskRepositoryOptions } from './in-memory-options.js';

export type { InMemoryExternalTaskRepositoryOptions } from './in-memory-options.js';

/** A conditional write's answer when the task may not be written. */
type WriteRefusal = Exclude<ConditionalWriteResult, { status: 'ok' }>;

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
  private readonly table: TaskTable;
  private readonly log: ChangeLog;
  private readonly availability: AvailabilityAnnouncer;
  /** Named consumers' positions and leases, timed by the store's clock; kept for the life of the store. */
  readonly consumerLeases: ConsumerLeases;

  /** @throws BadRequestError naming an option that is not what its type says */
  constructor(options: InMemoryExternalTaskRepositoryOptions = {}) {
    requireObject('options', options);
    this.clock = requireMethods('clock', options.clock ?? systemClock, clockMethods);
    const logger = requireMethods('logger', options.logger ?? consoleLogger, loggerMethods);
    this.table = new TaskTable(checkFinalTaskRetention(options.finalTaskRetention));
    const changesRetained = renamedOption(
      'changesRetained',
      options.changesRetained,
      'changeRetention',
      options.changeRetention,
    );
    this.log = new ChangeLog(
      requireInteger(changesRetained.argument, changesRetained.value ?? 10_000, 1, Number.MAX_SAFE_INTEGER),
      logger,
    );
    this.availability = new AvailabilityAnnouncer(logger);
    this.consumerLeases = new InMemoryConsumerLeases(this.clock);
  }

  create(input: NewExternalTask): Promise<ExternalTask> {
    return this.operation((effects) => this.store(effects, validateNewTask(input)));
  }

  createMany(inputs: readonly NewExternalTask[]): Promise<ExternalTask[]> {
    return this.operation((effects) => validateNewTasks(inputs).map((valid) => this.store(effects, valid)));
  }

  getById(externalTaskId: string): Promise<ExternalTask | undefined> {
    return this.operation(() => {
      const task = this.table.get(externalTaskId);
      return task && taskRecord(task);
    });
  }

  claim(request: ClaimRequest): Promise<ExternalTask[]> {
    return this.operation((effects) => {
      validateRequestShape(request, 'topics');
      const scope = validateScope(request.scope);
      const { now } = effects;
      const topics: TopicQueues[] = [];
      const lockDurations: number[] = [];
      for (const { topicName, lockDuration } of request.topics) {
        const queues = this.table.topic(topicName);
        if (!queues) continue;
        queues.promoteDue(now);
        topics.push(queues);
        lockDurations.push(lockDuration);
      }
      const claimed: ExternalTask[] = [];
      let skipped: StoredTask[] | undefined;
      while (claimed.length < request.maxTasks) {
        let task: StoredTask | undefined;
        let from = 0;
        for (let index = 0; index < topics.length; index++) {
          const next = topics[index]!.peekReady();
          if (next && (!task || compareHandOutOrder(next, task) < 0)) {
            task = next;
            from = index;
          }
        }
        if (!task) break;
        const queues = topics[from]!;
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
          (skipped ??= []).push(task);
          continue;
        }
        if (task.lockExpirationTime !== undefined) effects.changed('lockExpired', task);
        else if (task.retryAt !== undefined) effects.changed('retryDue', task);
        const lockDuration = lockDurations[from]!;
        this.table.setWorker(task, request.workerId);
        task.lockExpirationTime = now + lockDuration;
        task.retryAt = undefined;
        task.attempts++;
        queues.makeLocked(task);
        effects.hint(task.topic, lockDuration);
        claimed.push(effects.changed('locked', task));
      }
      for (const task of skipped ?? []) this.table.queuesOf(task.topic).makeReady(task);
      return claimed;
    });
  }

  extendLock(request: ExtendLockRequest): Promise<ConditionalWriteResult> {
    return this.operation((effects) => {
      const task = this.heldTask(request);
      if ('status' in task) return task;
      const previous = task.lockExpirationTime;
      task.lockExpirationTime = effects.now + request.lockDuration;
      this.table.queuesOf(task.topic).makeLocked(task);
      // Only a shortened lock can make the task available sooner than a waiting poll expects.
      if (previous !== undefined && task.lockExpirationTime < previous)
        effects.hint(task.topic, request.lockDuration);
      return { status: 'ok', task: effects.changed('extended', task) };
    });
  }

  unlock(request: UnlockRequest): Promise<ConditionalWriteResult> {
    return this.operation((effects) => {
      const task = this.heldTask(request);
      if ('status' in task) return task;
      this.table.setWorker(task, undefined);
      task.lockExpirationTime = undefined;
      this.table.queuesOf(task.topic).makeReady(task);
      effects.hint(task.topic, 0);
      return { status: 'ok', task: effects.changed('unlocked', task) };
    });
  }

  complete(request: CompleteRequest): Promise<ConditionalWriteResult> {
    return this.operation((effects) => {
      const task = this.heldTask(request, 'outcome');
      if ('status' in task) return task;
      return { status: 'ok', task: this.completeHeld(effects, task, request.outcome) };
    });
  }

  cancel(selector: CancelSelector): Promise<number> {
    return this.operation((effects) => {
      let cancelled = 0;
      for (const task of this.select(selector)) {
        if (task.state !== 'pending') continue;
        task.lockExpirationTime = undefined;
        task.retryAt = undefined;
        this.table.end(task, 'cancelled', effects.now);
        effects.changed('cancelled', task);
        cancelled++;
      }
      return cancelled;
    });
  }

  setRetries(
    externalTaskId: string,
    retries: number,
    options?: SetRetriesOptions,
  ): Promise<SetRetriesResult> {
    return this.operation((effects) => setRetries(this.table, effects, externalTaskId, retries, options));
  }

  forceUnlock(externalTaskId: string): Promise<EngineWriteResult> {
    return this.operation((effects) => forceUnlock(this.table, effects, externalTaskId));
  }

  setPriority(externalTaskId: string, priority: number): Promise<EngineWriteResult> {
    return this.operation((effects) => setPriority(this.table, effects, externalTaskId, priority));
  }

  deleteFinalTasks(selector: FinalTaskSelector): Promise<number> {
    return this.operation(() => deleteFinalTasks(this.table, selector));
  }

  query(filter: ExternalTaskQuery): Promise<ExternalTaskPage> {
    return this.operation(({ now }) => {
      const query = validateQuery(filter);
      const candidates = this.table.indexes.candidates(query) ?? this.table.all();
      const found = [...candidates].filter((task) => matches(task, query, now));
      found.sort((a, b) => a.sequence - b.sequence);
      const { offset, limit } = query;
      return {
        tasks: found.slice(offset, offset + limit).map((task) => taskRecord(task)),
        total: found.length,
      };
    });
  }

  countByTopic(filter?: TaskCountFilter | readonly string[]): Promise<TopicTaskCounts[]> {
    return this.operation(({ now }) => {
      const { topics, tenantId } = validateCountFilter(filter);
      if (tenantId !== undefined)
        return countTenantTasks(this.table.indexes.find('tenantId', tenantId), topics, now);
      return (topics ?? this.table.topicNamesWithTasks()).map((topic) => {
        const queues = this.table.topic(topic) ?? new TopicQueues();
        return { topic, ...queues.pendingCounts(now), ...queues.finals };
      });
    });
  }

  msUntilNextAvailable(topicNames: readonly string[], scope?: TaskScope): Promise<number | undefined> {
    return this.operation(({ now }) => {
      const topics = validateTopicNames('topicNames', topicNames);
      const validScope = validateScope(scope);
      let earliest: number | undefined;
      for (const topicName of topics) {
        const next = this.table.topic(topicName)?.msUntilAvailable(now, validScope);
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

  /**
   * Stores one checked new task, or answers the stored task with its idempotency key; part of `create`
   * and `createMany`.
   */
  private store(effects: OperationEffects, valid: ValidNewTask): ExternalTask {
    const existing =
      valid.idempotencyKey === undefined ? undefined : this.table.withKey(valid.idempotencyKey);
    if (existing) return taskRecord(existing);
    const task = this.table.add(valid, newTaskId(), effects.now);
    effects.hint(task.topic, 0);
    return effects.changed('created', task);
  }

  /**
   * The one check every conditional write shares — the request is an object (with its outcome object,
   * for a completion), the task exists and is in scope, is pending, and its most recent lock is
   * `workerId`'s — answering the task to write in the same synchronous step, or the refusal.
   */
  private heldTask(request: HeldTaskRequest, part?: 'outcome'): StoredTask | WriteRefusal {
    validateRequestShape(request, part);
    const { externalTaskId, workerId, scope } = request;
    const validScope = validateScope(scope);
    const task = this.table.get(externalTaskId);
    if (!task || !inScope(task, validScope)) return { status: 'not-found' };
    if (task.state !== 'pending') return { status: 'gone', task: taskRecord(task) };
    if (task.workerId !== workerId) return { status: 'locked', task: taskRecord(task) };
    return task;
  }

  /** Writes the outcome of a completion on the task its worker holds; answers the record after it. */
  private completeHeld(effects: OperationEffects, task: StoredTask, outcome: TaskOutcome): ExternalTask {
    const { now } = effects;
    task.lockExpirationTime = undefined;
    if (outcome.state === 'finished') {
      task.result = outcome.result;
      task.error = undefined; // an earlier failure that was retried is not this task's outcome
      task.retryAt = undefined;
      this.table.end(task, 'finished', now);
      return effects.changed('finished', task);
    }
    task.error = outcome.error;
    const retry = 'retry' in outcome ? outcome.retry : undefined;
    if (retry && retry.retries > 0) {
      this.table.setWorker(task, undefined);
      task.retries = retry.retries;
      task.retryAt = now + retry.retryTimeout;
      this.table.queuesOf(task.topic).makeDelayed(task);
      effects.hint(task.topic, retry.retryTimeout);
      return effects.changed('retryScheduled', task);
    }
    if (outcome.error.type === 'service' && (retry || task.retries !== undefined)) {
      task.retries = 0;
      task.incident = true;
    }
    this.table.end(task, 'failed', now);
    return effects.changed('failed', task);
  }

  private select(selector: CancelSelector): Iterable<StoredTask> {
    const { field, value } = validateCancelSelector(selector);
    if (field !== 'externalTaskId') return [...this.table.indexes.find(field, value)];
    const task = this.table.get(value);
    return task ? [task] : [];
  }

  /**
   * Runs one store operation synchronously (so it is atomic), then hands its hints and changes out, and
   * its outcome as a promise (errors reject; an operation that throws changes nothing).
   */
  private operation<T>(body: (effects: OperationEffects) => T): Promise<T> {
    const effects = new OperationEffects(this.log, this.clock.now());
    const before = this.log.currentPosition;
    this.table.forgetExpired(effects.now);
    let result: T;
    try {
      result = body(effects);
    } catch (error) {
      this.log.discardAfter(before);
      return Promise.reject(error);
    }
    if (effects.hints) this.availability.announce(effects.hints);
    if (this.log.currentPosition !== before) this.log.publish();
    return Promise.resolve(result);
  }
}
