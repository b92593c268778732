import type { ExternalTask, JsonValue } from '../../lib/model/index.js';
import { answerOf, expectAnswer, ModelCommand, type Answer, type ModelReal } from './model-command.js';
import type { RealSystem } from './real-system.js';
import { plainRecord } from './model-task.js';
import type { ModelServiceError, ModelWorker, Prediction, ReferenceModel } from './reference-model.js';

/** The id a step uses when the run has no task yet: one no store knows. */
export const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

/** A topic of a fetch and its lock duration. */
export interface FetchTopic {
  readonly topicName: string;
  readonly lockDuration: number;
}

const show = (worker: ModelWorker): string =>
  worker.tenants ? `${worker.workerId}[${worker.tenants.join(',')}]` : worker.workerId;

/**
 * A worker's step, in two halves so that several can run at once (see `ConcurrentCommand`): the call
 * to the real system, then the model's judgement of its answer.
 */
export abstract class WorkerCommand extends ModelCommand {
  /** Calls the real system; the model only names the task, and is not changed. */
  abstract perform(model: ReferenceModel, system: RealSystem): Promise<Answer<unknown>>;

  /**
   * Applies the step to `model` and expects `answer` to be what the model predicts. `before` is the model
   * the call was made against, which names the task; `racing`: the step raced others (they are judged on
   * copies of `before` in turn).
   */
  abstract judge(
    model: ReferenceModel,
    answer: Answer<unknown>,
    before: ReferenceModel,
    racing: boolean,
  ): void;

  /** The tasks `answer` handed out. */
  claimed(_answer: Answer<unknown>): readonly ExternalTask[] {
    return [];
  }

  protected async step(model: ReferenceModel, { system, checks }: ModelReal): Promise<void> {
    const answer = await this.perform(model, system);
    checks.expectNoOverlap(this.claimed(answer), model.now);
    this.judge(model, answer, model, false);
  }
}

/** A worker fetches and locks (no long poll): one topic positionally, several with the options form. */
export class FetchCommand extends WorkerCommand {
  constructor(
    readonly worker: ModelWorker,
    readonly topics: readonly FetchTopic[],
    readonly maxTasks: number,
  ) {
    super();
  }

  perform(_model: ReferenceModel, system: RealSystem): Promise<Answer<ExternalTask[]>> {
    const identity = system.identity(this.worker);
    const { workerId } = this.worker;
    const [only] = this.topics;
    return answerOf(() =>
      this.topics.length === 1
        ? system.api.fetchAndLockExternalTasks(
            identity,
            workerId,
            only!.topicName,
            this.maxTasks,
            0,
            only!.lockDuration,
          )
        : system.api.fetchAndLock(identity, { workerId, topics: this.topics, maxTasks: this.maxTasks }),
    );
  }

  /**
   * A fetch that raced others may come back short on the PostgreSQL server: a claim skips the tasks
   * another statement holds locked at that moment (`SKIP LOCKED`), as the contract allows ("up to maxTasks"; its concurrency
   * case hands 500 tasks out over rounds). It must still answer only available tasks in scope, in
   * hand-out order, each to one fetch; the model then holds exactly the tasks it answered as claimed.
   */
  judge(
    model: ReferenceModel,
    answer: Answer<unknown>,
    _before: ReferenceModel,
    mayComeBackShort: boolean,
  ): void {
    const answered =
      mayComeBackShort && 'value' in answer
        ? (answer.value as ExternalTask[]).map((task) => task.id)
        : undefined;
    const predicted = { value: model.claim(this.worker, this.topics, this.maxTasks, answered) };
    expectAnswer(
      answer as Answer<ExternalTask[]>,
      predicted,
      (tasks) => tasks.map(plainRecord),
      this.toString(),
    );
  }

  override claimed(answer: Answer<unknown>): readonly ExternalTask[] {
    return 'value' in answer ? (answer.value as ExternalTask[]) : [];
  }

  toString(): string {
    const topics = this.topics.map(({ topicName, lockDuration }) => `${topicName}:${lockDuration}`).join(' ');
    return `fetch(${show(this.worker)}, ${topics}, max ${this.maxTasks})`;
  }
}

/** What a worker reports on a task it should hold. */
export type WorkerWrite =
  | { readonly kind: 'extendLock'; readonly duration: number }
  | { readonly kind: 'finish'; readonly result: JsonValue | undefined }
  | { readonly kind: 'bpmnError'; readonly errorCode: string }
  | { readonly kind: 'serviceError'; readonly error: ModelServiceError }
  | { readonly kind: 'unlock' };

/** The workers of a run: one that sees every task, one that sees tenant a, one that sees tenants a and b. */
export const WORKERS: readonly ModelWorker[] = [
  { workerId: 'w1' },
  { workerId: 'w2', tenants: ['a'] },
  { workerId: 'w3', tenants: ['a', 'b'] },
];

/**
 * Which task a write is on, and who writes: with `byHolder`, the `index`-th of the pending tasks some
 * worker locked last (live or run out), written by that worker — when there is one; otherwise the
 * `index`-th of every task the run created, written by the command's worker.
 */
export interface TaskTarget {
  readonly index: number;
  readonly byHolder: boolean;
}

/** What the model predicts for each kind of write. */
const predictions: {
  readonly [K in WorkerWrite['kind']]: (
    model: ReferenceModel,
    id: string,
    worker: ModelWorker,
    write: Extract<WorkerWrite, { kind: K }>,
  ) => Prediction<undefined>;
} = {
  extendLock: (model, id, worker, { duration }) => model.extendLock(id, worker, duration),
  finish: (model, id, worker, { result }) => model.finish(id, worker, result),
  bpmnError: (model, id, worker, { errorCode }) => model.bpmnError(id, worker, errorCode),
  serviceError: (model, id, worker, { error }) => model.serviceError(id, worker, error),
  unlock: (model, id, worker) => model.unlock(id, worker),
};

/** A worker writes on the task it targets: 400, 404, 410, 423 or done. */
export class WorkerWriteCommand extends WorkerCommand {
  constructor(
    readonly worker: ModelWorker,
    readonly target: TaskTarget,
    readonly write: WorkerWrite,
  ) {
    super();
  }

  perform(model: ReferenceModel, system: RealSystem): Promise<Answer<void>> {
    const { id, worker } = this.resolve(model);
    const identity = system.identity(worker);
    const { workerId } = worker;
    const { api } = system;
    const write = this.write;
    switch (write.kind) {
      case 'extendLock':
        return answerOf(() => api.extendLock(identity, workerId, id, write.duration));
      case 'finish':
        return answerOf(() => api.finishExternalTask(identity, workerId, id, write.result));
      case 'bpmnError':
        return answerOf(() => api.handleBpmnError(identity, workerId, id, write.errorCode));
      case 'serviceError': {
        const { errorMessage, retry } = write.error;
        return answerOf(() => api.handleServiceError(identity, workerId, id, errorMessage, undefined, retry));
      }
      case 'unlock':
        return answerOf(() => api.unlock(identity, workerId, id));
    }
  }

  /** The task this step writes on and the worker that writes, as the model before the step names them. */
  resolve(model: ReferenceModel): { readonly id: string; readonly worker: ModelWorker } {
    const { index, byHolder } = this.target;
    const held = byHolder ? model.stored().filter((task) => task.state === 'pending' && task.workerId) : [];
    const task = held[index % held.length];
    if (!task) return { id: model.idAt(index) ?? UNKNOWN_ID, worker: this.worker };
    return { id: task.id, worker: WORKERS.find((worker) => worker.workerId === task.workerId)! };
  }

  judge(model: ReferenceModel, answer: Answer<unknown>, before: ReferenceModel): void {
    const { id, worker } = this.resolve(before);
    const predict = predictions[this.write.kind] as (
      model: ReferenceModel,
      id: string,
      worker: ModelWorker,
      write: WorkerWrite,
    ) => Prediction<undefined>;
    expectAnswer(answer, predict(model, id, worker, this.write), () => undefined, this.toString());
  }

  toString(): string {
    const { kind, ...args } = this.write;
    const shown = Object.values(args).map((value) => JSON.stringify(value) ?? 'undefined');
    const { index, byHolder } = this.target;
    const target = byHolder ? `holder of locked#${index}` : `${show(this.worker)}, #${index}`;
    return `${kind}(${target}${shown.map((value) => `, ${value}`).join('')})`;
  }
}
