import type { ExternalTaskFailure, JsonValue } from '../../lib/model/index.js';
import { without, type ModelChange, type ModelTask } from './model-task.js';

/** 2030-01-01T00:00:00Z: where every run's clock starts. */
export const MODEL_START = Date.UTC(2030, 0, 1);

/** A new task as the commands create it (a subset of `NewExternalTask`). */
export interface ModelNewTask {
  readonly topic: string;
  readonly flowNodeInstanceId: string;
  readonly correlationId: string;
  readonly processInstanceId: string;
  readonly tenantId?: string;
  readonly payload?: JsonValue;
  readonly priority?: number;
  readonly retries?: number;
  readonly idempotencyKey?: string;
}

/** A worker as the model and the access policy see it: an id and, optionally, the tenants it may see. */
export interface ModelWorker {
  readonly workerId: string;
  readonly tenants?: readonly string[];
}

/** An error an operation must reject with: its class and its stable code. */
export interface ExpectedError {
  readonly name: 'BadRequestError' | 'NotFoundError' | 'GoneError' | 'LockedError';
  readonly code: string;
  readonly argument?: string;
}

export const notFound: ExpectedError = { name: 'NotFoundError', code: 'TASK_NOT_FOUND' };
export const gone: ExpectedError = { name: 'GoneError', code: 'TASK_GONE' };
export const locked: ExpectedError = { name: 'LockedError', code: 'TASK_LOCKED' };
export const badRequest = (argument: string): ExpectedError => ({
  name: 'BadRequestError',
  code: 'BAD_REQUEST',
  argument,
});

/** The answer the model predicts: a value, or an error. */
export type Prediction<T> = { readonly value: T } | { readonly error: ExpectedError };

/** What a service error reports, as the facade takes it. */
export interface ModelServiceError {
  readonly errorMessage: string;
  readonly retry?: { readonly retries: number; readonly retryTimeout: number };
}

/**
 * The reference model: what every store must do, written as plainly as possible over an array of
 * records. Each operation answers what the store must answer, changes the model the way the store must
 * change, and queues the changes the feed must deliver (taken with {@link takeChanges}).
 */
export class ReferenceModel {
  now = MODEL_START;
  /** Every task ever created, in creation order; deleted ones stay here (see {@link deleted}). */
  tasks: ModelTask[] = [];
  deleted = new Set<string>();
  private changes: ModelChange[] = [];

  /** A copy to try steps on (records are replaced, never changed in place, so they may be shared). */
  copy(): ReferenceModel {
    const copy = new ReferenceModel();
    copy.adopt(this);
    return copy;
  }

  /** Takes the state of `other` (a copy the steps that really happened were tried on). */
  adopt(other: ReferenceModel): void {
    this.now = other.now;
    this.tasks = [...other.tasks];
    this.deleted = new Set(other.deleted);
    this.changes = [...other.changes];
  }

  /** The tasks a store still holds. */
  stored(): ModelTask[] {
    return this.tasks.filter((task) => !this.deleted.has(task.id));
  }

  /** The id a command's task index points at (a deleted task keeps its id: the store must not know it). */
  idAt(index: number): string | undefined {
    return this.tasks.length === 0 ? undefined : this.tasks[index % this.tasks.length]!.id;
  }

  /** The changes queued since the last {@link takeChanges}, left queued. */
  queuedChanges(): readonly ModelChange[] {
    return this.changes;
  }

  takeChanges(): ModelChange[] {
    const taken = this.changes;
    this.changes = [];
    return taken;
  }

  private announce(change: Omit<ModelChange, 'task'>, task: ModelTask): void {
    this.changes.push({ ...change, task: { ...task } });
  }

  private find(id: string): ModelTask | undefined {
    return this.deleted.has(id) ? undefined : this.tasks.find((task) => task.id === id);
  }

  private replace(task: ModelTask): ModelTask {
    this.tasks[this.tasks.findIndex((candidate) => candidate.id === task.id)] = task;
    return task;
  }

  // Engine operations.

  /**
   * Creates `news` in order. A task's id is the store's to choose: `answeredIds` are the ids the store
   * answered, place by place, and a new task takes the one at its place.
   */
  createMany(news: readonly ModelNewTask[], answeredIds: readonly (string | undefined)[]): ModelTask[] {
    return news.map((input, index) => {
      const taken = input.idempotencyKey
        ? this.stored().find((task) => task.idempotencyKey === input.idempotencyKey)
        : undefined;
      if (taken) return { ...taken };
      const task: ModelTask = {
        id: answeredIds[index] ?? `no id answered at place ${index}`,
        topic: input.topic,
        flowNodeInstanceId: input.flowNodeInstanceId,
        correlationId: input.correlationId,
        processInstanceId: input.processInstanceId,
        ...(input.tenantId !== undefined && { tenantId: input.tenantId }),
        payload: input.payload ?? null,
        priority: input.priority ?? 0,
        state: 'pending',
        createdAt: this.now,
        ...(input.retries !== undefined && { retries: input.retries }),
        attempts: 0,
        ...(input.idempotencyKey !== undefined && { idempotencyKey: input.idempotencyKey }),
      };
      this.tasks.push(task);
      this.announce({ type: 'created' }, task);
      return { ...task };
    });
  }

  cancel(selector: { readonly processInstanceId: string } | { readonly externalTaskId: string }): number {
    let count = 0;
    for (const task of this.stored()) {
      const selected =
        'processInstanceId' in selector
          ? task.processInstanceId === selector.processInstanceId
          : task.id === selector.externalTaskId;
      if (!selected || task.state !== 'pending') continue;
      const cancelled = this.replace({
        ...without(task, 'lockExpirationTime', 'retryAt'),
        state: 'cancelled',
        finishedAt: this.now,
      });
      this.announce({ type: 'cancelled' }, cancelled);
      count++;
    }
    return count;
  }

  setRetries(id: string, retries: number, retryTimeout: number | undefined): Prediction<ModelTask> {
    if (!Number.isSafeInteger(retries) || retries < 0) return { error: badRequest('retries') };
    const task = this.find(id);
    if (!task) return { error: notFound };
    if (task.state === 'pending') {
      const held = task.workerId !== undefined && task.lockExpirationTime !== undefined;
      const delayed = retryTimeout !== undefined && !held;
      const updated = this.replace({
        ...task,
        retries,
        ...(delayed && { retryAt: this.now + retryTimeout }),
      });
      this.announce({ type: 'retriesSet' }, updated);
      return { value: { ...updated } };
    }
    if (task.state !== 'failed' || task.incident !== true) return { error: gone };
    if (retries === 0) {
      // The budget is written (and announced) though the incident stays.
      const updated = this.replace({ ...task, retries });
      this.announce({ type: 'retriesSet' }, updated);
      return { value: { ...updated } };
    }
    const revived = this.replace({
      ...without(task, 'incident', 'finishedAt', 'workerId', 'lockExpirationTime', 'retryAt'),
      state: 'pending',
      retries,
      ...(retryTimeout !== undefined && { retryAt: this.now + retryTimeout }),
    });
    this.announce({ type: 'retriesSet' }, revived);
    return { value: { ...revived } };
  }

  forceUnlock(id: string): Prediction<ModelTask> {
    const task = this.find(id);
    if (!task) return { error: notFound };
    if (task.state !== 'pending') return { error: gone };
    if (task.workerId === undefined) return { value: { ...task } };
    const unlocked = this.replace(without(task, 'workerId', 'lockExpirationTime'));
    this.announce({ type: 'unlocked' }, unlocked);
    return { value: { ...unlocked } };
  }

  setPriority(id: string, priority: number): Prediction<ModelTask> {
    if (!Number.isSafeInteger(priority)) return { error: badRequest('priority') };
    const task = this.find(id);
    if (!task) return { error: notFound };
    if (task.state !== 'pending') return { error: gone };
    const updated = this.replace({ ...task, priority });
    this.announce({ type: 'prioritySet' }, updated);
    return { value: { ...updated } };
  }

  deleteFinalTasks(processInstanceId: string): number {
    const final = this.stored().filter(
      (task) => task.processInstanceId === processInstanceId && task.state !== 'pending',
    );
    for (const task of final) this.deleted.add(task.id);
    return final.length;
  }

  // Worker operations.

  /** Whether `task` is available to a claim now. */
  available(task: ModelTask): boolean {
    return (
      task.state === 'pending' &&
      (task.lockExpirationTime === undefined || task.lockExpirationTime <= this.now) &&
      (task.retryAt === undefined || task.retryAt <= this.now)
    );
  }

  /**
   * A claim: the first `maxTasks` available tasks in scope, in hand-out order — or, for a claim that
   * raced others (which may come back short, see `ConcurrentCommand`), those of them in `only`.
   */
  claim(
    worker: ModelWorker,
    topics: readonly { readonly topicName: string; readonly lockDuration: number }[],
    maxTasks: number,
    only?: readonly string[],
  ): ModelTask[] {
    const durations = new Map(topics.map((topic) => [topic.topicName, topic.lockDuration]));
    // Priority first, then creation order: not createdAt, which a clock stepping back can reverse.
    const order = (task: ModelTask): number => this.tasks.indexOf(task);
    const candidates = this.stored()
      .filter((task) => durations.has(task.topic) && inScope(task, worker) && this.available(task))
      .sort((a, b) => b.priority - a.priority || order(a) - order(b))
      .filter((task) => only === undefined || only.includes(task.id))
      .slice(0, maxTasks);
    return candidates.map((task) => {
      if (task.workerId !== undefined) this.announce({ type: 'lockExpired' }, task);
      else if (task.retryAt !== undefined) this.announce({ type: 'retryDue' }, task);
      const claimed = this.replace({
        ...without(task, 'retryAt'),
        workerId: worker.workerId,
        lockExpirationTime: this.now + durations.get(task.topic)!,
        attempts: task.attempts + 1,
      });
      this.announce({ type: 'locked' }, claimed);
      return { ...claimed };
    });
  }

  /** The refusal of a write on a task `worker` must hold, or the task when the write may go ahead. */
  private held(id: string, worker: ModelWorker): Prediction<ModelTask> {
    const task = this.find(id);
    if (!task || !inScope(task, worker)) return { error: notFound };
    if (task.state !== 'pending') return { error: gone };
    if (task.workerId !== worker.workerId) return { error: locked };
    return { value: task };
  }

  extendLock(id: string, worker: ModelWorker, duration: number): Prediction<undefined> {
    if (!isDuration(duration)) return { error: badRequest('additionalDuration') };
    return this.write(id, worker, (task) => {
      const extended = this.replace({ ...task, lockExpirationTime: this.now + duration });
      this.announce({ type: 'extended' }, extended);
    });
  }

  unlock(id: string, worker: ModelWorker): Prediction<undefined> {
    return this.write(id, worker, (task) => {
      const unlocked = this.replace(without(task, 'workerId', 'lockExpirationTime'));
      this.announce({ type: 'unlocked' }, unlocked);
    });
  }

  finish(id: string, worker: ModelWorker, result: JsonValue | undefined): Prediction<undefined> {
    return this.write(id, worker, (task) => {
      // An error reported before a retry is not the outcome of a task that then finished.
      const finished = this.replace({
        ...without(task, 'lockExpirationTime', 'error'),
        state: 'finished',
        finishedAt: this.now,
        ...(result !== undefined && { result }),
      });
      this.announce({ type: 'finished', ...(result !== undefined && { result }) }, finished);
    });
  }

  bpmnError(id: string, worker: ModelWorker, errorCode: string): Prediction<undefined> {
    return this.write(id, worker, (task) => this.fail(task, { type: 'bpmn', errorCode }, false));
  }

  serviceError(id: string, worker: ModelWorker, reported: ModelServiceError): Prediction<undefined> {
    const error: ExternalTaskFailure = { type: 'service', errorMessage: reported.errorMessage };
    const { retry } = reported;
    return this.write(id, worker, (task) => {
      if (retry && retry.retries > 0) {
        const waiting = this.replace({
          ...without(task, 'workerId', 'lockExpirationTime'),
          error,
          retries: retry.retries,
          retryAt: this.now + retry.retryTimeout,
        });
        this.announce({ type: 'retryScheduled', error }, waiting);
      } else if (retry || task.retries !== undefined) {
        // An incident: the retries ran out, or the task had a budget and the worker asked for none.
        this.fail({ ...task, retries: 0 }, error, true);
      } else this.fail(task, error, false);
    });
  }

  private fail(task: ModelTask, error: ExternalTaskFailure, incident: boolean): void {
    const failed = this.replace({
      ...without(task, 'lockExpirationTime', 'retryAt'),
      state: 'failed',
      finishedAt: this.now,
      error,
      ...(incident && { incident }),
    });
    this.announce({ type: 'failed', error, incident }, failed);
  }

  private write(id: string, worker: ModelWorker, apply: (task: ModelTask) => void): Prediction<undefined> {
    const held = this.held(id, worker);
    if ('error' in held) return held;
    apply(held.value);
    return { value: undefined };
  }
}

/** Whether `worker` may see `task`: every task without a tenant list; else a task of a listed tenant. */
export function inScope(task: ModelTask, worker: ModelWorker): boolean {
  return (
    worker.tenants === undefined || (task.tenantId !== undefined && worker.tenants.includes(task.tenantId))
  );
}

/** What the facade takes as a lock duration: an integer 1..2^31−1. */
function isDuration(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= 2 ** 31 - 1;
}
