import { GoneError, NotFoundError } from '../errors/index.js';
import type {
  ExternalTask,
  ExternalTaskState,
  JsonCompatible,
  JsonValue,
  NewTaskOf,
  NewTopicTask,
  TaskOf,
  TopicName,
  UntypedTopics,
} from '../model/index.js';
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
import { optionalString, requireObject, requireString } from '../validation/index.js';
import type { RepositoryAttachment } from './repository-attachment.js';
import type { TypedRejections } from './typed-rejections.js';

/** How many tasks {@link EngineOperations.forceUnlockAll} reads per page of its query. */
const HELD_PAGE = 1000;
/** How many of its writes it has in flight at once. */
const FORCE_UNLOCK_CONCURRENCY = 16;

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
 * An api typed by a topic map (`new ExternalTaskApi<Topics>(…)`) types them by it: `create` takes only
 * its topics, each with its payload shape (required unless it admits `null`), and the records answered
 * are its topics' records ({@link TaskOf}), which `task.topic` narrows.
 * @typeParam Topics - The api's topic map. @default UntypedTopics
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
export class EngineOperations<Topics = UntypedTopics> {
  /** Made by {@link ExternalTaskApi}; `rejections` turn a rejection into the facade's error. */
  constructor(
    private readonly repository: ExternalTaskRepository,
    private readonly rejections: TypedRejections,
    /** The api's link to the store's changes, which the operations wait for before their first call. */
    private readonly attachment: Pick<RepositoryAttachment, 'isAttached' | 'ready'>,
  ) {}

  /**
   * Stores a new pending task; with a taken `idempotencyKey`, answers the stored task instead. On an
   * untyped api, a type argument (`create<Order>(…)`) declares the payload's shape: the payload is checked
   * against it (required unless the shape admits `null`) and the record is typed by it.
   */
  create<const Topic extends TopicName<Topics>>(
    task: NewTaskOf<Topics, Topic> & { readonly topic: Topic },
  ): Promise<TaskOf<Topics, Topic>>;
  create<Payload>(
    task: string extends TopicName<Topics> ? NewTopicTask<string, JsonCompatible<Payload>> : never,
  ): Promise<ExternalTask<Payload>>;
  create(task: NewTopicTask<string, unknown>): Promise<ExternalTask<unknown, unknown>> {
    return this.run('engine.create', () => this.repository.create(task));
  }

  /**
   * Stores up to 1,000 new pending tasks at once, all or none, in order (idempotency keys, topics and
   * type arguments as `create`'s).
   */
  createMany<const Topic extends TopicName<Topics>>(
    tasks: readonly (NewTaskOf<Topics, Topic> & { readonly topic: Topic })[],
  ): Promise<TaskOf<Topics, Topic>[]>;
  createMany<Payload>(
    tasks: string extends TopicName<Topics>
      ? readonly NewTopicTask<string, JsonCompatible<Payload>>[]
      : never,
  ): Promise<ExternalTask<Payload>[]>;
  createMany(tasks: readonly NewTopicTask<string, unknown>[]): Promise<ExternalTask<unknown, unknown>[]> {
    return this.run('engine.createMany', () => this.repository.createMany(tasks));
  }

  /**
   * The task's current record, or `undefined`; typed by type arguments if given (`getById<Order, Receipt>`).
   * @throws {@link BadRequestError} naming `externalTaskId` when it is not an id (1 to 255 characters).
   */
  getById(externalTaskId: string): Promise<TaskOf<Topics> | undefined>;
  getById<Payload, Result = JsonValue>(
    externalTaskId: string,
  ): Promise<ExternalTask<Payload, Result> | undefined>;
  getById(externalTaskId: string): Promise<ExternalTask<unknown, unknown> | undefined> {
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
  setRetries(externalTaskId: string, retries: number, options?: SetRetriesOptions): Promise<TaskOf<Topics>> {
    return this.write('engine.setRetries', externalTaskId, () =>
      this.repository.setRetries(externalTaskId, retries, options),
    );
  }

  /**
   * Takes a pending task from the worker that holds it (a worker that died), available at once; a
   * pending task nobody holds is answered as it is. Resolves to the record.
   * @throws {@link NotFoundError} for an unknown task; {@link GoneError} for a final one.
   */
  forceUnlock(externalTaskId: string): Promise<TaskOf<Topics>> {
    return this.write('engine.forceUnlock', externalTaskId, () =>
      this.repository.forceUnlock(externalTaskId),
    );
  }

  /**
   * Takes every task a worker holds from it at once (`workerId`: its locks live or run out), or, without
   * `workerId`, every task any worker holds a live lock on: each becomes available at once, with an
   * `unlocked` change, as {@link forceUnlock} does for one. For a process that restarts on a store only it
   * uses (PGlite): its workers of before died with their locks, which would otherwise keep their tasks
   * until the locks run out (see docs/deployment.md). The tasks held when it is called are released, one
   * write each (16 at a time); a task that ends or is taken over meanwhile is left as it is then. Resolves
   * to how many were released.
   * @throws {@link BadRequestError} naming `options` or `options.workerId` when they are not an object and
   * an id.
   */
  async forceUnlockAll(options: { readonly workerId?: string | undefined } = {}): Promise<number> {
    const { workerId } = requireObject('options', options);
    const worker = optionalString('options.workerId', workerId);
    const held: ExternalTaskQuery =
      worker === undefined ? { state: 'pending', locked: true } : { state: 'pending', workerId: worker };
    const ids = await this.run('engine.forceUnlockAll', () => this.heldTaskIds(held));
    let released = 0;
    for (let start = 0; start < ids.length; start += FORCE_UNLOCK_CONCURRENCY) {
      const written = await this.run('engine.forceUnlockAll', () =>
        Promise.all(
          ids.slice(start, start + FORCE_UNLOCK_CONCURRENCY).map((id) => this.repository.forceUnlock(id)),
        ),
      );
      released += written.filter((write) => write.status === 'ok').length;
    }
    return released;
  }

  /**
   * Sets the priority of a pending task. Resolves to the record after the change.
   * @throws {@link NotFoundError} for an unknown task; {@link GoneError} for a final one.
   */
  setPriority(externalTaskId: string, priority: number): Promise<TaskOf<Topics>> {
    return this.write('engine.setPriority', externalTaskId, () =>
      this.repository.setPriority(externalTaskId, priority),
    );
  }

  /** Deletes the final tasks of a process instance (pending ones stay); resolves to how many. */
  deleteFinalTasks(selector: FinalTaskSelector): Promise<number> {
    return this.run('engine.deleteFinalTasks', () => this.repository.deleteFinalTasks(selector));
  }

  /**
   * Matching tasks, one page at a time, in creation order. On a typed api, a `topic` filter names its
   * topics and narrows the records' type to theirs.
   */
  query<const Topic extends TopicName<Topics> = TopicName<Topics>>(
    filter: ExternalTaskQuery & { readonly topic?: Topic | readonly Topic[] | undefined },
  ): Promise<ExternalTaskPage<TaskOf<Topics, Topic>>> {
    return this.run(
      'engine.query',
      () => this.repository.query(filter) as Promise<ExternalTaskPage<TaskOf<Topics, Topic>>>,
    );
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

  /** The ids of every task `held` matches now, read page by page (a task met twice as pages shift, once). */
  private async heldTaskIds(held: ExternalTaskQuery): Promise<string[]> {
    const ids = new Set<string>();
    for (let offset = 0; ; offset += HELD_PAGE) {
      const page = await this.repository.query({ ...held, limit: HELD_PAGE, offset });
      for (const task of page.tasks) ids.add(task.id);
      if (page.tasks.length < HELD_PAGE) return [...ids];
    }
  }

  /** A write on one task: its record when written, its refusal as the typed error. */
  private write(
    operation: `engine.${string}`,
    externalTaskId: string,
    write: () => Promise<EngineWriteResult>,
  ): Promise<TaskOf<Topics>> {
    return this.run(operation, async () => {
      const written = await write();
      switch (written.status) {
        case 'ok':
          return written.task as TaskOf<Topics>;
        case 'not-found':
          throw new NotFoundError(externalTaskId);
        case 'gone':
          throw new GoneError(externalTaskId, written.task.state as Exclude<ExternalTaskState, 'pending'>);
      }
    });
  }

  /** Runs `body`; what it throws or rejects with becomes the facade's typed error. */
  private run<T>(operation: `engine.${string}`, body: () => Promise<T>): Promise<T> {
    // Until the api listens to the store's changes, an operation would make changes it never hears of
    // (its subscription starts after them): the first operations wait for it.
    // (Once: after the api closed, it is no longer attached and the operation runs as it is.)
    if (!this.attachment.isAttached) {
      return this.attachment.ready().then(
        () => this.runNow(operation, body),
        (error: unknown) => Promise.reject(this.rejections.typed(error, operation)),
      );
    }
    return this.runNow(operation, body);
  }

  private runNow<T>(operation: `engine.${string}`, body: () => Promise<T>): Promise<T> {
    let answer: Promise<T>;
    try {
      answer = Promise.resolve(body());
    } catch (error) {
      return Promise.reject(this.rejections.typed(error, operation));
    }
    return answer.then(undefined, this.rejections.of(operation));
  }
}
