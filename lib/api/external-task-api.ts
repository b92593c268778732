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
import type {
  BpmnFailure,
  ExternalTask,
  ExternalTaskFailure,
  ExternalTaskState,
  Identity,
  ServiceFailure,
} from '../model/index.js';
import type {
  ConditionalWriteResult,
  ExternalTaskChange,
  ExternalTaskRepository,
  TaskOutcome,
  TaskVisibility,
  TopicClaim,
  UnlockRequest,
} from '../repository/index.js';
import {
  copyJsonValue,
  limits,
  optionalText,
  requireDuration,
  requireObject,
  requireString,
} from '../validation/index.js';
import { tokenAccessPolicy, visibilityFor, type AccessPolicy, type AccessRequest } from './access-policy.js';
import type {
  ExternalTaskService,
  FetchAndLockOptions,
  ServiceErrorOptions,
} from './external-task-service.js';
import { LongPollDispatcher } from './long-poll-dispatcher.js';
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

/** The part every conditional write on a held task shares: who asks, for which task, seeing what. */
type HeldTask = Pick<UnlockRequest, 'workerId' | 'externalTaskId' | 'isVisible'>;

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
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(options: ExternalTaskApiOptions) {
    if (typeof options?.repository?.claim !== 'function') {
      throw new TypeError('ExternalTaskApi: options.repository must be an ExternalTaskRepository.');
    }
    this.repository = options.repository;
    this.accessPolicy = options.accessPolicy ?? tokenAccessPolicy;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? consoleLogger;
    this.events = new ContainedEventEmitter((event, error) =>
      this.logger.error(`A listener of ${event} threw; the other listeners still ran.`, { error }),
    );
    this.longPolls = new LongPollDispatcher(this.repository, this.clock, this.logger);
    this.unsubscribe = this.repository.subscribe((change) => this.onChange(change));
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
    return this.outcomeWaiters.wait(externalTaskId, signal, async () => {
      try {
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
   * Stops listening to the repository, answers every waiting fetch with `[]` and rejects every
   * {@link waitForOutcome} with an `AbortError`. Later fetches answer `[]` at once without claiming
   * anything, and later `waitForOutcome` calls reject with an `AbortError`. Safe to call twice.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.longPolls.close();
    this.outcomeWaiters.rejectAll(closedError());
  }

  private async fetch(identity: Identity | undefined, fetch: ValidFetch): Promise<ExternalTask[]> {
    // Nobody would receive the tasks: claim none rather than leave them locked until their locks expire.
    if (this.closed || fetch.signal?.aborted) return [];
    const request = {
      workerId: fetch.workerId,
      topics: fetch.topics,
      maxTasks: fetch.maxTasks,
      ...this.visibilityFor(identity),
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
    write: (target: HeldTask) => Promise<ConditionalWriteResult>,
  ): Promise<void> {
    const target: HeldTask = {
      workerId: requireString('workerId', workerId),
      externalTaskId: requireString('externalTaskId', externalTaskId),
      ...this.visibilityFor(identity),
    };
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

  private visibilityFor(identity: Identity | undefined): { isVisible?: TaskVisibility } {
    return visibilityFor(this.accessPolicy, identity, this.logger);
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

  private onChange({ type, task }: ExternalTaskChange): void {
    if (task.state === 'pending')
      this.longPolls.announceAvailable(task.topic, availableAt(task, this.clock.now()));
    else this.outcomeWaiters.resolve(task);
    switch (type) {
      case 'finished':
        this.events.emit('task:finished', { task, result: task.result });
        return;
      case 'failed':
        this.events.emit('task:failed', {
          task,
          error: task.error as ExternalTaskFailure,
          incident: task.incident === true,
        });
        return;
      case 'retryScheduled':
        this.events.emit('task:retryScheduled', { task, error: task.error as ExternalTaskFailure });
        return;
      default:
        this.events.emit(`task:${type}`, { task });
    }
  }
}

function closedError(): DOMException {
  return new DOMException('The ExternalTaskApi was closed.', 'AbortError');
}

/** When a pending task becomes available: at its lock's expiry, at its retry time, or now. */
function availableAt(task: ExternalTask, now: number): number {
  return task.lockExpirationTime?.getTime() ?? task.retryAt?.getTime() ?? now;
}
