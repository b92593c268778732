import { GoneError, NotFoundError } from '../errors/index.js';
import type { ExternalTask, ExternalTaskState, JsonValue, NewExternalTask } from '../model/index.js';
import type {
  CancelSelector,
  ChangePosition,
  EngineWriteResult,
  ExternalTaskPage,
  ExternalTaskQuery,
  ExternalTaskRepository,
  FinalTaskSelector,
  SetRetriesOptions,
  TaskCountFilter,
  TopicTaskCounts,
} from '../repository/index.js';
import { requireString } from '../validation/index.js';
import type { TypedRejections } from './typed-rejections.js';

/**
 * The engine's operations on the facade's store, as `api.engine`: creating, cancelling, the operator's
 * controls, queries and counts. With `api.waitForOutcome`, `api.consumeOutcomes` and `api.events`, one
 * object carries everything an engine does, so it need not hold the repository as well.
 *
 * This is trusted code: no access policy applies (the engine's own calls carry no identity). Each
 * operation is the repository's, with the facade's error style: a write the task's state refuses throws
 * {@link NotFoundError} (404) or {@link GoneError} (410) instead of answering a status, bad arguments
 * reject with {@link BadRequestError} naming the argument, and a failing store with
 * {@link InternalError} (500) carrying the cause. The semantics are the repository's (see
 * {@link ExternalTaskRepository}).
 *
 * @example
 * ```ts
 * const api = new ExternalTaskApi({ repository: new InMemoryExternalTaskRepository() });
 * const task = await api.engine.create({
 *   topic: 'send-invoice', correlationId: 'order-17', processInstanceId: 'pi-1',
 *   flowNodeInstanceId: 'fni-1', idempotencyKey: 'fni-1',
 * });
 * const outcome = await api.waitForOutcome(task.id);
 * ```
 */
export class EngineOperations {
  /** Made by {@link ExternalTaskApi}; `rejections` turn a rejection into the facade's error. */
  constructor(
    private readonly repository: ExternalTaskRepository,
    private readonly rejections: TypedRejections,
  ) {}

  /**
   * Stores a new pending task; with a taken `idempotencyKey`, answers the stored task instead. With a
   * type argument (`create<Order>(…)`) the payload is checked against it and the record is typed by it.
   */
  create(task: NewExternalTask): Promise<ExternalTask>;
  create<Payload>(task: NewExternalTask<Payload>): Promise<ExternalTask<Payload>>;
  create(task: NewExternalTask): Promise<ExternalTask> {
    return this.run('engine.create', () => this.repository.create(task));
  }

  /**
   * Stores up to 1,000 new pending tasks at once, all or none, in order (idempotency keys as `create`;
   * a type argument as `create`'s).
   */
  createMany(tasks: readonly NewExternalTask[]): Promise<ExternalTask[]>;
  createMany<Payload>(tasks: readonly NewExternalTask<Payload>[]): Promise<ExternalTask<Payload>[]>;
  createMany(tasks: readonly NewExternalTask[]): Promise<ExternalTask[]> {
    return this.run('engine.createMany', () => this.repository.createMany(tasks));
  }

  /**
   * The task's current record, or `undefined`; typed by type arguments if given (`getById<Order, Receipt>`).
   * @throws {@link BadRequestError} naming `externalTaskId` when it is not an id (1 to 255 characters).
   */
  getById(externalTaskId: string): Promise<ExternalTask | undefined>;
  getById<Payload, Result = JsonValue>(
    externalTaskId: string,
  ): Promise<ExternalTask<Payload, Result> | undefined>;
  getById(externalTaskId: string): Promise<ExternalTask | undefined> {
    return this.run('engine.getById', () =>
      this.repository.getById(requireString('externalTaskId', externalTaskId)),
    );
  }

  /** Cancels the selected pending tasks; resolves to how many. */
  cancel(selector: CancelSelector): Promise<number> {
    return this.run('engine.cancel', () => this.repository.cancel(selector));
  }

  /**
   * Sets a task's retry budget; revives an incident when `retries > 0` (after `options.retryTimeout`, if
   * given). Resolves to the record after the change.
   * @throws {@link NotFoundError} for an unknown task; {@link GoneError} for a final task that is no incident.
   */
  setRetries(externalTaskId: string, retries: number, options?: SetRetriesOptions): Promise<ExternalTask> {
    return this.write('engine.setRetries', externalTaskId, () =>
      this.repository.setRetries(externalTaskId, retries, options),
    );
  }

  /**
   * Takes a pending task from the worker that holds it (a worker that died), available at once; a
   * pending task nobody holds is answered as it is. Resolves to the record.
   * @throws {@link NotFoundError} for an unknown task; {@link GoneError} for a final one.
   */
  forceUnlock(externalTaskId: string): Promise<ExternalTask> {
    return this.write('engine.forceUnlock', externalTaskId, () =>
      this.repository.forceUnlock(externalTaskId),
    );
  }

  /**
   * Sets the priority of a pending task. Resolves to the record after the change.
   * @throws {@link NotFoundError} for an unknown task; {@link GoneError} for a final one.
   */
  setPriority(externalTaskId: string, priority: number): Promise<ExternalTask> {
    return this.write('engine.setPriority', externalTaskId, () =>
      this.repository.setPriority(externalTaskId, priority),
    );
  }

  /** Deletes the final tasks of a process instance (pending ones stay); resolves to how many. */
  deleteFinalTasks(selector: FinalTaskSelector): Promise<number> {
    return this.run('engine.deleteFinalTasks', () => this.repository.deleteFinalTasks(selector));
  }

  /** Matching tasks, one page at a time, in creation order. */
  query(filter: ExternalTaskQuery): Promise<ExternalTaskPage> {
    return this.run('engine.query', () => this.repository.query(filter));
  }

  /** Counts per topic and state (BPMN errors apart from service errors). */
  countByTopic(filter?: TaskCountFilter | readonly string[]): Promise<TopicTaskCounts[]> {
    return this.run('engine.countByTopic', () => this.repository.countByTopic(filter));
  }

  /**
   * The position of the store's latest change (0 if none yet): on an engine's first start, the position
   * to store, before it creates any task, as where {@link ExternalTaskApi.consumeOutcomes} starts.
   */
  currentPosition(): Promise<ChangePosition> {
    return this.run('engine.currentPosition', () => this.repository.currentPosition());
  }

  /** A write on one task: its record when written, its refusal as the typed error. */
  private write(
    operation: `engine.${string}`,
    externalTaskId: string,
    write: () => Promise<EngineWriteResult>,
  ): Promise<ExternalTask> {
    return this.run(operation, async () => {
      const written = await write();
      switch (written.status) {
        case 'ok':
          return written.task;
        case 'not-found':
          throw new NotFoundError(externalTaskId);
        case 'gone':
          throw new GoneError(externalTaskId, written.task.state as Exclude<ExternalTaskState, 'pending'>);
      }
    });
  }

  /** Runs `body`; what it throws or rejects with becomes the facade's typed error. */
  private run<T>(operation: `engine.${string}`, body: () => Promise<T>): Promise<T> {
    let answer: Promise<T>;
    try {
      answer = Promise.resolve(body());
    } catch (error) {
      return Promise.reject(this.rejections.typed(error, operation));
    }
    return answer.then(undefined, this.rejections.of(operation));
  }
}
