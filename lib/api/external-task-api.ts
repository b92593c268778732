import { systemClock, type Clock } from '../clock/index.js';
import {
  BadRequestError,
  ExternalTaskError,
  GoneError,
  InternalError,
  LockedError,
  NotFoundError,
} from '../errors/index.js';
import { ContainedEventEmitter, type ExternalTaskEvents } from '../events/index.js';
import { consoleLogger, type Logger } from '../logging/index.js';
import {
  frozenRecord,
  type BpmnFailure,
  type ExternalTask,
  type ExternalTaskState,
  type Identity,
  type ServiceFailure,
} from '../model/index.js';
import {
  validateScope,
  type ChangeFeed,
  type ChangePosition,
  type ChangeFeedResync,
  type ConditionalWriteResult,
  type ExternalTaskChange,
  type ExternalTaskRepository,
  type HeldTaskRequest,
  type TaskOutcome,
  type TaskScope,
  type TopicClaim,
} from '../repository/index.js';
import {
  copyJsonValue,
  limits,
  optionalText,
  requireDuration,
  requireObject,
  requireString,
} from '../validation/index.js';
import { tokenAccessPolicy, type AccessPolicy, type AccessRequest } from './access-policy.js';
import type {
  ExternalTaskService,
  FetchAndLockOptions,
  ServiceErrorOptions,
} from './external-task-service.js';
import { LongPollDispatcher } from './long-poll-dispatcher.js';
import { RepositoryAttachment } from './repository-attachment.js';
import { OutcomeWaiters } from './outcome-waiters.js';
import {
  validateFetchOptions,
  validatePositionalFetch,
  validateRetry,
  type ValidFetch,
} from './request-validation.js';

/** Options of {@link ExternalTaskApi}. */
export interface ExternalTaskApiOptions {
  /** The store of tasks. */
  readonly repository: ExternalTaskRepository;
  /** Who may do what. @default tokenAccessPolicy (401 without a non-empty string token) */
  readonly accessPolicy?: AccessPolicy;
  /** Time and timers for long polls. @default systemClock */
  readonly clock?: Clock;
  /** Receives failures that cannot be thrown to a caller (listeners, the store's announcements). @default consoleLogger */
  readonly logger?: Logger;
}

/** One outcome handed to {@link ExternalTaskApi.consumeOutcomes}. */
export interface ExternalTaskOutcome {
  /** The final record: `finished`, `failed` or `cancelled`. */
  readonly task: ExternalTask;
  /** The outcome's position in the store's change feed: store it once the outcome is handled. */
  readonly position: ChangePosition;
}

/** Options of {@link ExternalTaskApi.consumeOutcomes}. */
export interface ConsumeOutcomesOptions {
  /**
   * Resume after this position: the position of the last outcome the engine handled, as it stored it.
   * @default the current end (outcomes from now on)
   */
  readonly after?: ChangePosition | undefined;
  /** Handles one outcome; a returned promise is awaited before the next outcome is handed over. */
  onOutcome(outcome: ExternalTaskOutcome): void | Promise<void>;
  /**
   * The feed fell behind the store's retention and outcomes may be missing (see {@link ChangeFeedResync});
   * delivery goes on after the gap. Without it, such a gap stops the consumption like a failure does.
   */
  onResync?(resync: ChangeFeedResync): void | Promise<void>;
  /**
   * The consumption stopped: `onOutcome` threw or rejected for `outcome` (which was not handled, so the
   * position stored before it is still right), or the feed fell behind without `onResync` (a
   * {@link ChangeFeedRetentionError}, no outcome). Nothing is skipped: consume again from the stored
   * position to retry. @default logged as an error
   */
  onError?(error: unknown, outcome: ExternalTaskOutcome | undefined): void;
}

/** Options of {@link ExternalTaskApi.waitForOutcome}. */
export interface WaitForOutcomeOptions {
  /** Stops waiting: the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/**
 * The External Task API (the facade): what workers call to fetch and lock tasks, extend locks and report
 * outcomes, and where the engine hears about outcomes.
 *
 * Every operation checks access first (the {@link AccessPolicy}), then its arguments (400 naming the
 * argument), and then asks the repository for one conditional write, whose answer maps to 404, 410 or
 * 423. Anything unexpected becomes a 500 {@link InternalError} with the original as `cause`.
 *
 * @example
 * ```ts
 * const repository = new InMemoryExternalTaskRepository();
 * const api = new ExternalTaskApi({ repository });
 * api.events.on('task:finished', ({ task, result }) => console.log(task.id, result));
 *
 * const identity = { token: 'worker-token' };
 * const [task] = await api.fetchAndLockExternalTasks(identity, 'worker-1', 'send-invoice', 1, 30_000, 60_000);
 * if (task) await api.finishExternalTask(identity, 'worker-1', task.id, { sent: true });
 * ```
 */
export class ExternalTaskApi implements ExternalTaskService {
  /** Typed events (see {@link ExternalTaskEvents}): `task:created`, `task:locked`, `task:finished`, `task:failed`, … */
  readonly events: ContainedEventEmitter<ExternalTaskEvents>;

  private readonly repository: ExternalTaskRepository;
  private readonly accessPolicy: AccessPolicy;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly longPolls: LongPollDispatcher;
  private readonly outcomeWaiters = new OutcomeWaiters();
  private readonly attachment: RepositoryAttachment;
  /** The feeds handed out by {@link consumeOutcomes}, closed with the api. */
  private readonly outcomeFeeds = new Set<ChangeFeed>();
  private closed = false;
  private closing: Promise<void> | undefined;

  /**
   * @throws TypeError when `options` is not an options object with a `repository` that has every method
   * of {@link ExternalTaskRepository} (the message names what is missing).
   */
  constructor(options: ExternalTaskApiOptions) {
    this.repository = requireRepository(options);
    this.accessPolicy = options.accessPolicy ?? tokenAccessPolicy;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? consoleLogger;
    this.events = new ContainedEventEmitter((event, error) =>
      this.logger.error(`A listener of ${event} threw; the other listeners still ran.`, { error }),
    );
    this.longPolls = new LongPollDispatcher(this.repository, this.clock, this.logger);
    this.attachment = new RepositoryAttachment(
      () => [
        this.repository.subscribe({
          onChange: (change) => this.onChange(change),
          onResync: () => this.recheckOutcomeWaiters(),
        }),
        this.repository.watchAvailability((hints) => this.longPolls.hint(hints)),
      ],
      this.clock,
      this.logger,
    );
    this.attachment.ready().catch(() => undefined);
  }

  fetchAndLockExternalTasks(
    identity: Identity | undefined,
    workerId: string,
    topicName: string,
    maxTasks: number,
    longPollingTimeout: number,
    lockDuration: number,
  ): Promise<ExternalTask[]> {
    return this.run(identity, { operation: 'fetchAndLock', workerId, topicNames: [topicName] }, () =>
      this.fetch(
        identity,
        validatePositionalFetch(workerId, topicName, maxTasks, longPollingTimeout, lockDuration),
      ),
    );
  }

  fetchAndLock(identity: Identity | undefined, options: FetchAndLockOptions): Promise<ExternalTask[]> {
    const topics: readonly Partial<TopicClaim>[] = Array.isArray(options?.topics) ? options.topics : [];
    const topicNames = topics.map((topic) => topic?.topicName as string);
    return this.run(identity, { operation: 'fetchAndLock', workerId: options?.workerId, topicNames }, () =>
      this.fetch(identity, validateFetchOptions(options)),
    );
  }

  extendLock(
    identity: Identity | undefined,
    workerId: string,
    externalTaskId: string,
    additionalDuration: number,
  ): Promise<void> {
    return this.run(identity, { operation: 'extendLock', workerId, externalTaskId }, () =>
      this.writeHeldTask(identity, workerId, externalTaskId, (target) =>
        this.repository.extendLock({
          ...target,
          lockDuration: requireDuration('additionalDuration', additionalDuration),
        }),
      ),
    );
  }

  finishExternalTask(
    identity: Identity | undefined,
    workerId: string,
    externalTaskId: string,
    result: unknown,
  ): Promise<void> {
    return this.run(identity, { operation: 'finish', workerId, externalTaskId }, () =>
      this.complete(identity, workerId, externalTaskId, () => ({
        state: 'finished',
        ...(result !== undefined && { result: copyJsonValue('result', result) }),
      })),
    );
  }

  handleBpmnError(
    identity: Identity | undefined,
    workerId: string,
    externalTaskId: string,
    errorCode: string,
    errorMessage?: string,
  ): Promise<void> {
    return this.run(identity, { operation: 'handleBpmnError', workerId, externalTaskId }, () =>
      this.complete(identity, workerId, externalTaskId, () => {
        const message = optionalText('errorMessage', errorMessage, limits.maxMessageLength);
        const error: BpmnFailure = Object.freeze({
          type: 'bpmn',
          errorCode: requireString('errorCode', errorCode),
          ...(message !== undefined && { errorMessage: message }),
        });
        return { state: 'failed', error };
      }),
    );
  }

  handleServiceError(
    identity: Identity | undefined,
    workerId: string,
    externalTaskId: string,
    errorMessage: string,
    errorDetails?: unknown,
    options?: ServiceErrorOptions,
  ): Promise<void> {
    return this.run(identity, { operation: 'handleServiceError', workerId, externalTaskId }, () =>
      this.complete(identity, workerId, externalTaskId, () => {
        const error: ServiceFailure = Object.freeze({
          type: 'service',
          errorMessage: requireString('errorMessage', errorMessage, limits.maxMessageLength),
          ...(errorDetails !== undefined && { errorDetails: copyJsonValue('errorDetails', errorDetails) }),
        });
        const retry = validateRetry(options);
        return retry ? { state: 'failed', error, retry } : { state: 'failed', error };
      }),
    );
  }

  /** The concept paper's name for {@link handleServiceError}; identical in every respect. */
  handleSystemError(
    identity: Identity | undefined,
    workerId: string,
    externalTaskId: string,
    errorMessage: string,
    errorDetails?: unknown,
    options?: ServiceErrorOptions,
  ): Promise<void> {
    return this.handleServiceError(identity, workerId, externalTaskId, errorMessage, errorDetails, options);
  }

  unlock(identity: Identity | undefined, workerId: string, externalTaskId: string): Promise<void> {
    return this.run(identity, { operation: 'unlock', workerId, externalTaskId }, () =>
      this.writeHeldTask(identity, workerId, externalTaskId, (target) => this.repository.unlock(target)),
    );
  }

  /**
   * For the engine: resolves with the task's final record once it is finished, failed or cancelled (at
   * once if it already is), so the engine need not manage listeners. Rejects with {@link NotFoundError} for an
   * unknown id (400 for an invalid one), and with the signal's reason when `signal` aborts.
   */
  async waitForOutcome(externalTaskId: string, options: WaitForOutcomeOptions = {}): Promise<ExternalTask> {
    requireString('externalTaskId', externalTaskId);
    const { signal } = requireObject('options', options ?? {}) as WaitForOutcomeOptions;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new BadRequestError('signal', 'signal must be an AbortSignal.');
    }
    // A closed api hears no more outcomes: waiting would never end.
    if (this.closed) throw closedError();
    // The waiter is registered before this call returns, and the store read only once the feed is live:
    // an outcome delivered in between (even a stub's simulated change) is not missed.
    return this.outcomeWaiters.wait(externalTaskId, signal, async () => {
      try {
        await this.attached('waitForOutcome');
        return await this.repository.getById(externalTaskId);
      } catch (error) {
        throw this.toExternalTaskError(error, 'waitForOutcome');
      }
    });
  }

  /** Whether {@link close} was called: every fetch then answers `[]`. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * For the engine, the durable way to hear outcomes: hands every outcome (`finished`, `failed`,
   * `cancelled`) after `after` to `onOutcome`, once each, in the order they happened, then every new one.
   * The engine stores each handled outcome's `position` (best in the same transaction as the state change
   * the outcome causes) and passes the last one as `after` when it starts again, so an outcome that
   * happened while it was down is handled once, and none twice. Close the returned feed to stop.
   * @throws {@link ChangeFeedRetentionError} when `after` is older than the store retains.
   */
  async consumeOutcomes(options: ConsumeOutcomesOptions): Promise<ChangeFeed> {
    requireObject('options', options);
    if (typeof options.onOutcome !== 'function') {
      throw new BadRequestError('onOutcome', 'onOutcome must be a function.');
    }
    if (this.closed) throw closedError();
    let feed: ChangeFeed | undefined;
    const forget = (): void => void (feed && this.outcomeFeeds.delete(feed));
    try {
      const opened = await this.repository.subscribe({
        after: options.after,
        onChange: (change) =>
          isOutcome(change) ? options.onOutcome({ task: change.task, position: change.position }) : undefined,
        ...(options.onResync && { onResync: (resync) => options.onResync?.(resync) }),
        onHalt: (error, change) => {
          forget();
          const outcome = change && { task: change.task, position: change.position };
          if (options.onError) options.onError(error, outcome);
          else
            this.logger.error('consumeOutcomes stopped; resume from the last stored position.', {
              error,
              outcome,
            });
        },
      });
      feed = {
        get position() {
          return opened.position;
        },
        close: () => {
          forget();
          return opened.close();
        },
      };
    } catch (error) {
      throw this.toExternalTaskError(error, 'consumeOutcomes');
    }
    if (this.closed) {
      await feed.close();
      throw closedError();
    }
    this.outcomeFeeds.add(feed);
    return feed;
  }

  /**
   * Stops listening to the repository, answers every waiting fetch with `[]`, rejects every
   * {@link waitForOutcome} with an `AbortError` and closes the feeds {@link consumeOutcomes} handed out.
   * Later fetches answer `[]` at once without claiming anything, and later `waitForOutcome` and
   * `consumeOutcomes` calls reject with an `AbortError`. Resolves once everything is closed. Safe to call
   * twice (both calls resolve together).
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    this.longPolls.close();
    this.outcomeWaiters.rejectAll(closedError());
    const feeds = [...this.outcomeFeeds];
    this.outcomeFeeds.clear();
    this.closing = Promise.all([this.attachment.close(), ...feeds.map((feed) => feed.close())]).then(
      () => undefined,
    );
    return this.closing;
  }

  /** Waits until the change feed and the availability watch are open (at once after the first time). */
  private async attached(operation: string): Promise<void> {
    try {
      await this.attachment.ready();
    } catch (error) {
      throw this.toExternalTaskError(error, operation);
    }
  }

  /**
   * The api's feed missed changes (it fell behind the store's retention): the outcomes it may have missed
   * are read from the store for every task someone waits for.
   */
  private async recheckOutcomeWaiters(): Promise<void> {
    this.logger.warn(
      'The change feed had to resynchronise: events in the gap are lost; outcome waits are read again.',
    );
    await Promise.all(
      this.outcomeWaiters.taskIds().map(async (externalTaskId) => {
        try {
          const task = await this.repository.getById(externalTaskId);
          if (task && task.state !== 'pending') this.outcomeWaiters.resolve(frozenRecord(task));
        } catch (error) {
          this.logger.error('Could not read a task again after the change feed resynchronised.', {
            externalTaskId,
            error,
          });
        }
      }),
    );
  }

  private async fetch(identity: Identity | undefined, fetch: ValidFetch): Promise<ExternalTask[]> {
    // Nobody would receive the tasks: claim none rather than leave them locked until their locks expire.
    if (this.closed || fetch.signal?.aborted) return [];
    const scope = await this.scopeOf(identity);
    await this.attached('fetchAndLock');
    if (this.closed || fetch.signal?.aborted) return [];
    const request = {
      workerId: fetch.workerId,
      topics: fetch.topics,
      maxTasks: fetch.maxTasks,
      ...(scope && { scope }),
    };
    const announcementCount = this.longPolls.announcementCount;
    const tasks = await this.repository.claim(request);
    if (tasks.length > 0 || fetch.longPollingTimeout === 0 || this.closed || fetch.signal?.aborted)
      return tasks;
    return this.longPolls.wait(request, fetch.longPollingTimeout, fetch.signal, announcementCount);
  }

  private complete(
    identity: Identity | undefined,
    workerId: string,
    externalTaskId: string,
    outcome: () => TaskOutcome,
  ): Promise<void> {
    return this.writeHeldTask(identity, workerId, externalTaskId, (target) =>
      this.repository.complete({ ...target, outcome: outcome() }),
    );
  }

  /**
   * Checks the ids, then makes one conditional write on a task the worker must hold, and turns a refusal
   * into its typed error (404, 410, 423).
   */
  private async writeHeldTask(
    identity: Identity | undefined,
    workerId: string,
    externalTaskId: string,
    write: (target: HeldTaskRequest) => Promise<ConditionalWriteResult>,
  ): Promise<void> {
    const ids = {
      workerId: requireString('workerId', workerId),
      externalTaskId: requireString('externalTaskId', externalTaskId),
    };
    const scope = await this.scopeOf(identity);
    const target: HeldTaskRequest = { ...ids, ...(scope && { scope }) };
    this.throwUnlessWritten(await write(target), target);
  }

  private throwUnlessWritten(
    written: ConditionalWriteResult,
    { externalTaskId, workerId }: { externalTaskId: string; workerId: string },
  ): void {
    switch (written.status) {
      case 'ok':
        return;
      case 'not-found':
        throw new NotFoundError(externalTaskId);
      case 'gone':
        throw new GoneError(externalTaskId, written.task.state as Exclude<ExternalTaskState, 'pending'>);
      case 'locked':
        throw new LockedError(
          externalTaskId,
          workerId,
          written.task.workerId,
          written.task.lockExpirationTime,
        );
    }
  }

  /** What the access policy lets `identity` see, checked so that a store can rely on its shape. */
  private async scopeOf(identity: Identity | undefined): Promise<TaskScope | undefined> {
    if (!this.accessPolicy.scope) return undefined;
    const scope = await this.accessPolicy.scope(identity);
    try {
      return validateScope(scope);
    } catch (error) {
      throw new InternalError(`The access policy returned an invalid scope: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  private async run<T>(
    identity: Identity | undefined,
    access: AccessRequest,
    operation: () => Promise<T>,
  ): Promise<T> {
    try {
      await this.accessPolicy.authorize(identity, access);
      return await operation();
    } catch (error) {
      throw this.toExternalTaskError(error, access.operation);
    }
  }

  private toExternalTaskError(error: unknown, operation: string): ExternalTaskError {
    if (error instanceof ExternalTaskError) return error;
    this.logger.error(`${operation} failed unexpectedly.`, { error });
    const message = error instanceof Error ? error.message : String(error);
    return new InternalError(`${operation} failed: ${message}`, { cause: error });
  }

  private onChange(change: ExternalTaskChange): void {
    const { task } = change;
    if (isOutcome(change)) this.outcomeWaiters.resolve(task);
    switch (change.type) {
      case 'finished':
        this.events.emit('task:finished', { task, result: change.result });
        return;
      case 'failed':
        this.events.emit('task:failed', { task, error: change.error, incident: change.incident });
        return;
      case 'retryScheduled':
        this.events.emit('task:retryScheduled', { task, error: change.error });
        return;
      default:
        this.events.emit(`task:${change.type}`, { task });
    }
  }
}

function closedError(): DOMException {
  return new DOMException('The ExternalTaskApi was closed.', 'AbortError');
}

/** Whether `change` gave its task its outcome. */
function isOutcome(change: ExternalTaskChange): boolean {
  return change.type === 'finished' || change.type === 'failed' || change.type === 'cancelled';
}

const repositoryMethods = [
  'create',
  'createMany',
  'getById',
  'claim',
  'extendLock',
  'complete',
  'unlock',
  'cancel',
  'setRetries',
  'query',
  'countByTopic',
  'msUntilNextAvailable',
  'watchAvailability',
  'subscribe',
  'currentPosition',
] as const satisfies readonly (keyof ExternalTaskRepository)[];

/** The repository of `options`, or a TypeError that says what is wrong with it. */
function requireRepository(options: ExternalTaskApiOptions): ExternalTaskRepository {
  const given = options as Partial<ExternalTaskApiOptions & ExternalTaskRepository> | null | undefined;
  if (typeof given?.claim === 'function' && given.repository === undefined) {
    throw new TypeError(
      'ExternalTaskApi takes an options object: write new ExternalTaskApi({ repository }), not new ExternalTaskApi(repository).',
    );
  }
  const repository = given?.repository as Partial<ExternalTaskRepository> | null | undefined;
  if (typeof repository !== 'object' || repository === null) {
    throw new TypeError('ExternalTaskApi: options.repository must be an ExternalTaskRepository.');
  }
  const missing = repositoryMethods.filter((method) => typeof repository[method] !== 'function');
  if (missing.length > 0) {
    throw new TypeError(
      `ExternalTaskApi: options.repository is not an ExternalTaskRepository; it lacks ${missing.join(', ')}.`,
    );
  }
  return repository as ExternalTaskRepository;
}
