import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../../clock/index.js';
import { consoleLogger, type Logger } from '../../logging/index.js';
import type { ExternalTask, NewExternalTask } from '../../model/index.js';
import {
  copyJsonValue,
  optionalString,
  requireInteger,
  requireObject,
  requireString,
} from '../../validation/index.js';
import type {
  ClaimRequest,
  CompleteRequest,
  ConditionalWriteResult,
  ExtendLockRequest,
  ExternalTaskChange,
  ExternalTaskChangeListener,
  ExternalTaskRepository,
  TaskVisibility,
} from '../external-task-repository.js';
import { toSnapshot, type StoredTask } from './stored-task.js';
import { compareHandOutOrder, TopicQueues } from './topic-queues.js';

/** Options of {@link InMemoryExternalTaskRepository}. */
export interface InMemoryExternalTaskRepositoryOptions {
  /** Where "now" comes from (lock expiry, timestamps). @default systemClock */
  readonly clock?: Clock;
  /** Receives failures of change listeners. @default consoleLogger */
  readonly logger?: Logger;
}

/**
 * The embedded store: all tasks in this process's memory, indexed per topic so that claiming `k` of `n`
 * tasks costs O(k log n). Every operation runs to completion without yielding between its check and
 * its write, which makes each one atomic in a single Node process.
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
  private readonly listeners = new Set<ExternalTaskChangeListener>();
  private sequence = 0;

  constructor(options: InMemoryExternalTaskRepositoryOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? consoleLogger;
  }

  create(input: NewExternalTask): Promise<ExternalTask> {
    return settle(() => {
      requireObject('task', input);
      const identity =
        input.identity === undefined
          ? undefined
          : copyJsonValue('identity', requireObject('identity', input.identity));
      const task: StoredTask = {
        id: randomUUID(),
        topic: requireString('topic', input.topic),
        flowNodeInstanceId: requireString('flowNodeInstanceId', input.flowNodeInstanceId),
        correlationId: requireString('correlationId', input.correlationId),
        processInstanceId: requireString('processInstanceId', input.processInstanceId),
        processModelId: optionalString('processModelId', input.processModelId),
        identity: identity as StoredTask['identity'],
        payload: copyJsonValue('payload', input.payload ?? null),
        priority: requireInteger(
          'priority',
          input.priority ?? 0,
          Number.MIN_SAFE_INTEGER,
          Number.MAX_SAFE_INTEGER,
        ),
        createdAt: this.clock.now(),
        sequence: this.sequence++,
        state: 'pending',
        workerId: undefined,
        lockExpirationTime: undefined,
        finishedAt: undefined,
        result: undefined,
        error: undefined,
        queue: undefined,
        heapIndex: -1,
      };
      this.tasks.set(task.id, task);
      this.queuesOf(task.topic).makeReady(task);
      const snapshot = toSnapshot(task);
      this.announce({ type: 'created', task: snapshot });
      return snapshot;
    });
  }

  getById(externalTaskId: string): Promise<ExternalTask | undefined> {
    return settle(() => {
      const task = this.tasks.get(externalTaskId);
      return task && toSnapshot(task);
    });
  }

  claim(request: ClaimRequest): Promise<ExternalTask[]> {
    return settle(() => {
      const now = this.clock.now();
      const topics = request.topics.flatMap(({ topicName, lockDuration }) => {
        const queues = this.topics.get(topicName);
        return queues ? [{ queues, lockDuration }] : [];
      });
      const claimed: StoredTask[] = [];
      const hidden: { queues: TopicQueues; task: StoredTask }[] = [];
      while (claimed.length < request.maxTasks) {
        let best: { queues: TopicQueues; lockDuration: number; task: StoredTask } | undefined;
        for (const topic of topics) {
          const task = topic.queues.peekAvailable(now);
          if (task && (!best || compareHandOutOrder(task, best.task) < 0)) best = { ...topic, task };
        }
        if (!best) break;
        const { queues, lockDuration, task } = best;
        if (request.isVisible && !request.isVisible(toSnapshot(task))) {
          queues.detach(task);
          hidden.push({ queues, task });
          continue;
        }
        task.workerId = request.workerId;
        task.lockExpirationTime = now + lockDuration;
        queues.makeWaiting(task);
        claimed.push(task);
      }
      for (const { queues, task } of hidden) queues.makeReady(task);
      const snapshots = claimed.map(toSnapshot);
      for (const task of snapshots) this.announce({ type: 'locked', task });
      return snapshots;
    });
  }

  extendLock(request: ExtendLockRequest): Promise<ConditionalWriteResult> {
    return settle(() =>
      this.writeHeldTask(request.externalTaskId, request.workerId, request.isVisible, (task) => {
        task.lockExpirationTime = this.clock.now() + request.lockDuration;
        this.queuesOf(task.topic).makeWaiting(task);
        return 'extended';
      }),
    );
  }

  complete(request: CompleteRequest): Promise<ConditionalWriteResult> {
    return settle(() =>
      this.writeHeldTask(request.externalTaskId, request.workerId, request.isVisible, (task) => {
        const { outcome } = request;
        task.state = outcome.state;
        task.finishedAt = this.clock.now();
        task.lockExpirationTime = undefined;
        if (outcome.state === 'finished') task.result = outcome.result;
        else task.error = outcome.error;
        const queues = this.queuesOf(task.topic);
        queues.detach(task);
        if (queues.isEmpty) this.topics.delete(task.topic);
        return outcome.state;
      }),
    );
  }

  nextAvailableAt(topicNames: readonly string[]): Promise<Date | undefined> {
    return settle(() => {
      const now = this.clock.now();
      let earliest: number | undefined;
      for (const topicName of topicNames) {
        const queues = this.topics.get(topicName);
        queues?.peekAvailable(now); // files expired locks as available, so only future expirations remain
        const expiration = queues?.nextLockExpiration();
        if (expiration !== undefined && (earliest === undefined || expiration < earliest))
          earliest = expiration;
      }
      return earliest === undefined ? undefined : new Date(earliest);
    });
  }

  subscribe(listener: ExternalTaskChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The one check every conditional write shares — the task exists and is visible, is pending, and its
   * most recent lock is `workerId`'s — followed by `write` in the same synchronous step.
   */
  private writeHeldTask(
    externalTaskId: string,
    workerId: string,
    isVisible: TaskVisibility | undefined,
    write: (task: StoredTask) => ExternalTaskChange['type'],
  ): ConditionalWriteResult {
    const task = this.tasks.get(externalTaskId);
    if (!task || (isVisible && !isVisible(toSnapshot(task)))) return { status: 'not-found' };
    if (task.state !== 'pending') return { status: 'gone', task: toSnapshot(task) };
    if (task.workerId !== workerId) return { status: 'locked', task: toSnapshot(task) };
    const type = write(task);
    const snapshot = toSnapshot(task);
    this.announce({ type, task: snapshot });
    return { status: 'ok', task: snapshot };
  }

  private queuesOf(topic: string): TopicQueues {
    let queues = this.topics.get(topic);
    if (!queues) {
      queues = new TopicQueues();
      this.topics.set(topic, queues);
    }
    return queues;
  }

  private announce(change: ExternalTaskChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.logger.error('A repository change listener threw; the change itself was applied.', {
          change,
          error,
        });
      }
    }
  }
}

/** Runs a synchronous store operation and hands its outcome out as a promise (errors reject). */
function settle<T>(operation: () => T): Promise<T> {
  try {
    return Promise.resolve(operation());
  } catch (error) {
    return Promise.reject(error);
  }
}
