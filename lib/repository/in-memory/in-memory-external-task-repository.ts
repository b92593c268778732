import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../../clock/index.js';
import { GoneError, NotFoundError } from '../../errors/index.js';
import { consoleLogger, type Logger } from '../../logging/index.js';
import type { ExternalTask, ExternalTaskState, NewExternalTask } from '../../model/index.js';
import { limits, requireInteger, requireString } from '../../validation/index.js';
import type {
  CancelSelector,
  ClaimRequest,
  CompleteRequest,
  ConditionalWriteResult,
  ExtendLockRequest,
  ExternalTaskChange,
  ExternalTaskChangeListener,
  ExternalTaskChangeType,
  ExternalTaskPage,
  ExternalTaskQuery,
  ExternalTaskRepository,
  TaskVisibility,
  TopicTaskCounts,
  UnlockRequest,
} from '../external-task-repository.js';
import {
  validateCancelSelector,
  validateNewTask,
  validateQuery,
  validateTopicNames,
} from '../repository-arguments.js';
import { ChangeAnnouncer } from '../change-announcer.js';
import { FinalTaskRetention } from './final-task-retention.js';
import { toSnapshot, type StoredTask } from './stored-task.js';
import { matches, TaskIndexes } from './task-indexes.js';
import { compareHandOutOrder, TopicQueues } from './topic-queues.js';

/** Options of {@link InMemoryExternalTaskRepository}. */
export interface InMemoryExternalTaskRepositoryOptions {
  /** Where "now" comes from (lock expiry, retries, timestamps). @default systemClock */
  readonly clock?: Clock;
  /** Receives failures of change listeners. @default consoleLogger */
  readonly logger?: Logger;
  /**
   * How long a finished, failed or cancelled task is kept after it ended, in ms; then it is forgotten
   * (`getById` answers `undefined`, queries and counts no longer include it). Keeps a long-running
   * process's memory bounded. @default Infinity (kept for the life of the store)
   */
  readonly finalTaskRetention?: number;
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
  private readonly logger: Logger;
  private readonly tasks = new Map<string, StoredTask>();
  private readonly topics = new Map<string, TopicQueues>();
  private readonly indexes = new TaskIndexes();
  private readonly announcer: ChangeAnnouncer;
  private readonly retention: FinalTaskRetention;
  private sequence = 0;

  constructor(options: InMemoryExternalTaskRepositoryOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? consoleLogger;
    this.announcer = new ChangeAnnouncer(this.logger);
    const retention = options.finalTaskRetention ?? Infinity;
    if (retention !== Infinity) requireInteger('finalTaskRetention', retention, 0, Number.MAX_SAFE_INTEGER);
    this.retention = new FinalTaskRetention(retention);
  }

  create(input: NewExternalTask): Promise<ExternalTask> {
    return this.operation((changes) => {
      const valid = validateNewTask(input);
      // One literal with every field, in a fixed order: all stored tasks share one compact object shape.
      const task: StoredTask = {
        id: randomUUID(),
        topic: valid.topic,
        flowNodeInstanceId: valid.flowNodeInstanceId,
        correlationId: valid.correlationId,
        processInstanceId: valid.processInstanceId,
        processModelId: valid.processModelId,
        identity: valid.identity,
        payload: valid.payload,
        priority: valid.priority,
        retries: valid.retries,
        createdAt: this.clock.now(),
        sequence: this.sequence++,
        state: 'pending',
        workerId: undefined,
        lockExpirationTime: undefined,
        finishedAt: undefined,
        result: undefined,
        error: undefined,
        retryAt: undefined,
        incident: undefined,
        attempts: 0,
        queue: undefined,
        heapIndex: -1,
      };
      this.tasks.set(task.id, task);
      this.indexes.add(task);
      this.queuesOf(task.topic).makeReady(task);
      return this.changed(changes, 'created', task);
    });
  }

  getById(externalTaskId: string): Promise<ExternalTask | undefined> {
    return this.operation(() => {
      const task = this.tasks.get(externalTaskId);
      return task && toSnapshot(task);
    });
  }

  claim(request: ClaimRequest): Promise<ExternalTask[]> {
    return this.operation((changes) => {
      const now = this.clock.now();
      const topics = request.topics.flatMap(({ topicName, lockDuration }) => {
        const queues = this.topics.get(topicName);
        queues?.promoteDue(now, (task, why) => this.changed(changes, why, task));
        return queues ? [{ queues, lockDuration }] : [];
      });
      const claimed: ExternalTask[] = [];
      const hidden: { queues: TopicQueues; task: StoredTask }[] = [];
      while (claimed.length < request.maxTasks) {
        let best: { queues: TopicQueues; lockDuration: number; task: StoredTask } | undefined;
        for (const topic of topics) {
          const task = topic.queues.peekReady();
          if (task && (!best || compareHandOutOrder(task, best.task) < 0)) best = { ...topic, task };
        }
        if (!best) break;
        const { queues, lockDuration, task } = best;
        if (request.isVisible && !this.visible(request.isVisible, task)) {
          queues.detach(task);
          hidden.push({ queues, task });
          continue;
        }
        task.workerId = request.workerId;
        task.lockExpirationTime = now + lockDuration;
        task.retryAt = undefined;
        task.attempts++;
        queues.makeLocked(task);
        claimed.push(this.changed(changes, 'locked', task));
      }
      for (const { queues, task } of hidden) queues.makeReady(task);
      return claimed;
    });
  }

  extendLock(request: ExtendLockRequest): Promise<ConditionalWriteResult> {
    return this.operation((changes) =>
      this.writeHeldTask(changes, request.externalTaskId, request.workerId, request.isVisible, (task) => {
        task.lockExpirationTime = this.clock.now() + request.lockDuration;
        this.queuesOf(task.topic).makeLocked(task);
        return 'extended';
      }),
    );
  }

  unlock(request: UnlockRequest): Promise<ConditionalWriteResult> {
    return this.operation((changes) =>
      this.writeHeldTask(changes, request.externalTaskId, request.workerId, request.isVisible, (task) => {
        task.workerId = undefined;
        task.lockExpirationTime = undefined;
        this.queuesOf(task.topic).makeReady(task);
        return 'unlocked';
      }),
    );
  }

  complete(request: CompleteRequest): Promise<ConditionalWriteResult> {
    return this.operation((changes) =>
      this.writeHeldTask(changes, request.externalTaskId, request.workerId, request.isVisible, (task) => {
        const { outcome } = request;
        const now = this.clock.now();
        const queues = this.queuesOf(task.topic);
        task.lockExpirationTime = undefined;
        if (outcome.state === 'finished') {
          task.result = outcome.result;
          task.error = undefined; // an earlier failure that was retried is not this task's outcome
          task.retryAt = undefined;
          this.end(task, 'finished', now);
          return 'finished';
        }
        task.error = outcome.error;
        const retry = 'retry' in outcome ? outcome.retry : undefined;
        if (retry && retry.retries > 0) {
          task.workerId = undefined;
          task.retries = retry.retries;
          task.retryAt = now + retry.retryTimeout;
          queues.makeDelayed(task);
          return 'retryScheduled';
        }
        if (outcome.error.type === 'service' && (retry || task.retries !== undefined)) {
          task.retries = 0;
          task.incident = true;
        }
        this.end(task, 'failed', now);
        return 'failed';
      }),
    );
  }

  cancel(selector: CancelSelector): Promise<number> {
    return this.operation((changes) => {
      let cancelled = 0;
      for (const task of this.select(selector)) {
        if (task.state !== 'pending') continue;
        task.lockExpirationTime = undefined;
        task.retryAt = undefined;
        this.end(task, 'cancelled', this.clock.now());
        this.changed(changes, 'cancelled', task);
        cancelled++;
      }
      return cancelled;
    });
  }

  setRetries(externalTaskId: string, retries: number): Promise<ExternalTask> {
    return this.operation((changes) => {
      requireString('externalTaskId', externalTaskId);
      requireInteger('retries', retries, 0, limits.maxRetries);
      const task = this.tasks.get(externalTaskId);
      if (!task) throw new NotFoundError(externalTaskId);
      if (task.state === 'failed' && task.incident === true && retries > 0) {
        const queues = this.queuesOf(task.topic);
        queues.finals.failed--;
        queues.finals.incidents--;
        task.incident = undefined;
        task.finishedAt = undefined;
        task.workerId = undefined; // a fresh start: the worker that failed it holds nothing
        this.setState(task, 'pending');
        queues.makeReady(task);
      } else if (task.state !== 'pending' && task.incident !== true) {
        throw new GoneError(externalTaskId, task.state);
      }
      task.retries = retries;
      return this.changed(changes, 'retriesSet', task);
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

  countByTopic(topicNames?: readonly string[]): Promise<TopicTaskCounts[]> {
    return this.operation((changes) => {
      const now = this.clock.now();
      return (validateTopicNames(topicNames) ?? [...this.topics.keys()]).map((topic) => {
        const queues = this.topics.get(topic) ?? new TopicQueues();
        queues.promoteDue(now, (task, why) => this.changed(changes, why, task));
        return { topic, ...queues.pendingCounts(), ...queues.finals };
      });
    });
  }

  nextAvailableAt(topicNames: readonly string[]): Promise<Date | undefined> {
    return this.operation((changes) => {
      const now = this.clock.now();
      let earliest: number | undefined;
      for (const topicName of topicNames) {
        const queues = this.topics.get(topicName);
        queues?.promoteDue(now, (task, why) => this.changed(changes, why, task));
        const next = queues?.nextTransition();
        if (next !== undefined && (earliest === undefined || next < earliest)) earliest = next;
      }
      return earliest === undefined ? undefined : new Date(earliest);
    });
  }

  subscribe(listener: ExternalTaskChangeListener): () => void {
    return this.announcer.subscribe(listener);
  }

  /**
   * The one check every conditional write shares — the task exists and is visible, is pending, and its
   * most recent lock is `workerId`'s — followed by `write` in the same synchronous step.
   */
  private writeHeldTask(
    changes: ExternalTaskChange[],
    externalTaskId: string,
    workerId: string,
    isVisible: TaskVisibility | undefined,
    write: (task: StoredTask) => ExternalTaskChangeType,
  ): ConditionalWriteResult {
    const task = this.tasks.get(externalTaskId);
    if (!task || (isVisible && !this.visible(isVisible, task))) return { status: 'not-found' };
    if (task.state !== 'pending') return { status: 'gone', task: toSnapshot(task) };
    if (task.workerId !== workerId) return { status: 'locked', task: toSnapshot(task) };
    return { status: 'ok', task: this.changed(changes, write(task), task) };
  }

  /** Asks a caller's visibility check; one that throws counts as "not visible", so nothing is half done. */
  private visible(isVisible: TaskVisibility, task: StoredTask): boolean {
    try {
      return isVisible(toSnapshot(task));
    } catch (error) {
      this.logger.error('A visibility check threw; the task counts as not visible.', {
        externalTaskId: task.id,
        error,
      });
      return false;
    }
  }

  /** Moves a pending task to a final state. */
  private end(task: StoredTask, state: 'finished' | 'failed' | 'cancelled', now: number): void {
    const queues = this.queuesOf(task.topic);
    queues.detach(task);
    queues.finals[state]++;
    if (task.incident) queues.finals.incidents++;
    task.finishedAt = now;
    this.setState(task, state);
    this.retention.track(task);
  }

  /** Removes a final task whose retention ran out, from the store, its indexes and its topic's counts. */
  private forget(task: StoredTask): void {
    // A task that ended twice in the same millisecond (an incident revived and failed again) has two
    // retention entries; only the first may count.
    if (this.tasks.get(task.id) !== task) return;
    this.tasks.delete(task.id);
    this.indexes.remove(task);
    const finals = this.queuesOf(task.topic).finals;
    finals[task.state as 'finished' | 'failed' | 'cancelled']--;
    if (task.incident) finals.incidents--;
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

  /** Records a change of `task` (its snapshot now) for announcement, and returns that snapshot. */
  private changed(
    changes: ExternalTaskChange[],
    type: ExternalTaskChangeType,
    task: StoredTask,
  ): ExternalTask {
    const snapshot = toSnapshot(task);
    changes.push({ type, task: snapshot });
    return snapshot;
  }

  /**
   * Runs one store operation synchronously (so it is atomic), then announces the changes it recorded,
   * and hands its outcome out as a promise (errors reject; an operation that throws changes nothing).
   */
  private operation<T>(body: (changes: ExternalTaskChange[]) => T): Promise<T> {
    const changes: ExternalTaskChange[] = [];
    for (const task of this.retention.takeExpired(this.clock.now())) this.forget(task);
    let result: T;
    try {
      result = body(changes);
    } catch (error) {
      return Promise.reject(error);
    }
    this.announcer.announce(changes);
    return Promise.resolve(result);
  }
}
