import type { Clock } from '../clock/index.js';
import { asExternalTaskError, ExternalTaskError } from '../errors/index.js';
import { ContainedEventEmitter, type ExternalTaskEvents } from '../events/index.js';
import type { Logger } from '../logging/index.js';
import type { ExternalTask, Identity, JsonValue, TaskOf, TopicMap, UntypedTopics } from '../model/index.js';
import {
  type ChangeFeed,
  type ClaimRequest,
  type ExternalTaskChange,
  type ExternalTaskRepository,
  type TaskScope,
  type TopicClaim,
} from '../repository/index.js';
import { isThenable } from '../repository/callback-runs.js';
import { requireObject, requireString } from '../validation/index.js';
import { scopeFor, type AccessPolicy, type AccessRequest } from './access-policy.js';
import type {
  ExternalTaskService,
  FetchAndLockOptions,
  ServiceErrorOptions,
} from './external-task-service.js';
import { LongPollDispatcher } from './long-poll-dispatcher.js';
import { RepositoryAttachment } from './repository-attachment.js';
import { isOutcome, OutcomeConsumers } from './outcome-consumers.js';
import type {
  ConsumeOutcomesOptions,
  NamedConsumeOutcomesOptions,
  NamedOutcomeConsumer,
} from './consume-outcomes-options.js';
import { OutcomeWaiters } from './outcome-waiters.js';
import { emitChangeEvent } from './change-events.js';
import { EngineOperations } from './engine-operations.js';
import type { ExternalTaskApiOptions, WaitForOutcomeOptions } from './external-task-api-options.js';
import { HeldTaskWrites } from './held-task-writes.js';
import { TypedRejections } from './typed-rejections.js';
import { resolveApiOptions } from './resolve-api-options.js';
import {
  requireOptionalSignal,
  validateFetchOptions,
  validatePositionalFetch,
  type ValidFetch,
} from './request-validation.js';

/**
 * The External Task API (the facade): what workers call to fetch and lock tasks, extend locks and report
 * outcomes, and what the engine uses: {@link engine} to create, cancel and query, events and
 * {@link waitForOutcome} to hear outcomes.
 *
 * Every operation checks access first (the {@link AccessPolicy}), then its arguments (400 naming the
 * argument), and then asks the repository for one conditional write, whose answer maps to 404, 410 or
 * 423. Anything unexpected becomes a 500 {@link InternalError} with the original as `cause`.
 *
 * A topic map (`new ExternalTaskApi<Topics>(…)`, see {@link TopicMap}) declares each topic's payload and
 * result; the engine's operations, the events, `waitForOutcome`, `consumeOutcomes`, the fetches and the
 * workers over the api are then typed by it, their records a union that `task.topic` narrows. The map is
 * a declaration the engine's creates keep (the store holds whatever JSON it was given).
 * @typeParam Topics - The topic map. @default UntypedTopics (any topic, JSON values)
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
export class ExternalTaskApi<Topics extends TopicMap<Topics> = UntypedTopics> implements ExternalTaskService<
  TaskOf<Topics>
> {
  /** Typed events (see {@link ExternalTaskEvents}): `task:created`, `task:locked`, `task:finished`, `task:failed`, … */
  readonly events: ContainedEventEmitter<ExternalTaskEvents<TaskOf<Topics>>>;
  /** The engine's operations on the store (create, cancel, operator controls, queries): no access policy. */
  readonly engine: EngineOperations<Topics>;

  private readonly repository: ExternalTaskRepository;
  /** Who may do what: the `accessPolicy` option, or {@link tokenAccessPolicy}. */
  readonly accessPolicy: AccessPolicy;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly longPolls: LongPollDispatcher;
  private readonly outcomeWaiters = new OutcomeWaiters();
  private readonly attachment: RepositoryAttachment;
  private readonly writes: HeldTaskWrites;
  private readonly rejections: TypedRejections;
  /** The consumptions {@link consumeOutcomes} opened, closed with the api. */
  private readonly outcomeConsumers: OutcomeConsumers;
  private closed = false;
  private closing: Promise<void> | undefined;

  /**
   * @throws TypeError naming what is wrong: no options object, a `repository` lacking a method of
   * {@link ExternalTaskRepository}, or an `accessPolicy`, `clock` or `logger` lacking one of its interface.
   */
  constructor(options: ExternalTaskApiOptions) {
    const resolved = resolveApiOptions(options);
    this.repository = resolved.repository;
    this.accessPolicy = resolved.accessPolicy;
    this.clock = resolved.clock;
    this.logger = resolved.logger;
    this.events = new ContainedEventEmitter((event, error) =>
      this.logger.error(`A listener of ${event} threw; the other listeners still ran.`, { error }),
    );
    this.longPolls = new LongPollDispatcher(this.repository, this.clock, this.logger);
    this.writes = new HeldTaskWrites(this.repository, this.accessPolicy);
    this.outcomeConsumers = new OutcomeConsumers(this.repository, this.clock, this.logger);
    this.rejections = new TypedRejections((error, operation) => this.toExternalTaskError(error, operation));
    this.attachment = new RepositoryAttachment(
      () => [
        this.repository.subscribe({
          onChange: (change) => this.onChange(change),
          synchronous: true,
          onResync: () => {
            this.logger.warn('The change feed had to resynchronise: events in the gap are lost.');
            return this.outcomeWaiters.readAgain((id) => this.repository.getById(id), this.logger);
          },
        }),
        this.repository.watchAvailability((hints) => this.longPolls.hint(hints)),
      ],
      this.clock,
      this.logger,
    );
    this.attachment.ready().catch(() => undefined);
    this.engine = new EngineOperations(this.repository, this.rejections, this.attachment);
  }

  fetchAndLockExternalTasks(
    identity: Identity | undefined,
    workerId: string,
    topicName: TaskOf<Topics>['topic'],
    maxTasks: number,
    longPollingTimeout: number,
    lockDuration: number,
  ): Promise<TaskOf<Topics>[]> {
    return this.run(identity, { operation: 'fetchAndLock', workerId, topicNames: [topicName] }, () =>
      this.fetch(
        identity,
        validatePositionalFetch(workerId, topicName, maxTasks, longPollingTimeout, lockDuration),
      ),
    );
  }

  fetchAndLock(
    identity: Identity | undefined,
    options: FetchAndLockOptions<TaskOf<Topics>['topic']>,
  ): Promise<TaskOf<Topics>[]> {
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
      this.writes.extendLock(identity, workerId, externalTaskId, additionalDuration),
    );
  }

  finishExternalTask(
    identity: Identity | undefined,
    workerId: string,
    externalTaskId: string,
    result: unknown,
  ): Promise<void> {
    return this.run(identity, { operation: 'finish', workerId, externalTaskId }, () =>
      this.writes.finish(identity, workerId, externalTaskId, result),
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
      this.writes.bpmnError(identity, workerId, externalTaskId, errorCode, errorMessage),
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
      this.writes.serviceError(identity, workerId, externalTaskId, errorMessage, errorDetails, options),
    );
  }

  /**
   * {@link handleServiceError} under the specification's other name (§3.5: the concept paper's "handle
   * system errors", whose route `handle_system_error` the HTTP API keeps as an alias); identical in every
   * respect. Part of the API, not deprecated: it is the method of that route.
   */
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
      this.writes.unlock(identity, workerId, externalTaskId),
    );
  }

  /**
   * For the engine: resolves with the task's final record once it is finished, failed or cancelled (at
   * once if it already is), so the engine need not manage listeners. Rejects with {@link NotFoundError} for an
   * unknown id (400 for an invalid one), and with the signal's reason when `signal` aborts. The record
   * is one of the topic map's; type arguments (`waitForOutcome<Order, Receipt>(id)`) declare its shapes.
   */
  waitForOutcome(externalTaskId: string, options?: WaitForOutcomeOptions): Promise<TaskOf<Topics>>;
  waitForOutcome<Payload, Result = JsonValue>(
    externalTaskId: string,
    options?: WaitForOutcomeOptions,
  ): Promise<ExternalTask<Payload, Result>>;
  async waitForOutcome(
    externalTaskId: string,
    options: WaitForOutcomeOptions = {},
  ): Promise<ExternalTask<unknown, unknown>> {
    requireString('externalTaskId', externalTaskId);
    const signal = requireOptionalSignal(requireObject('options', options ?? {}).signal);
    // A closed api hears no more outcomes: waiting would never end.
    if (this.closed) throw closedError();
    // The waiter is registered before this call returns, and the store read only once the feed is live:
    // an outcome delivered in between (even a stub's simulated change) is not missed.
    const outcome = this.outcomeWaiters.wait(externalTaskId, signal, async () => {
      try {
        await this.attached('waitForOutcome');
        return await this.repository.getById(externalTaskId);
      } catch (error) {
        throw this.toExternalTaskError(error, 'waitForOutcome');
      }
    });
    return outcome;
  }

  /** Whether {@link close} was called: every fetch then answers `[]`. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * For the engine, the durable way to hear outcomes: hands every outcome (`finished`, `failed`,
   * `cancelled`) after a position to `onOutcome`, once each, in the order they happened, then every new
   * one; a failing `onOutcome` is retried with back-off (`retry`), each failure told to `onError`. Two
   * forms (docs/guide.md, "Hearing outcomes durably"):
   * - `after`: the engine stores each handled outcome's `position` (best in the same transaction as the
   *   state change the outcome causes) and passes the last one as `after` when it starts again (on its
   *   first start, `api.engine.currentPosition()` stored before it creates anything): no outcome lost,
   *   none twice;
   * - `consumer`: the store keeps the named consumer's position and a lease, so that of the replicas
   *   using the name one consumes at a time and another takes over when it closes or dies; at least once.
   * @throws {@link BadRequestError} naming a missing `after`, or `consumer` on a store without
   * `consumerLeases`; {@link ChangeFeedRetentionError} when the position to start after is older than the
   * store retains (a named consumer's, only without `onResync`).
   */
  consumeOutcomes(options: NamedConsumeOutcomesOptions<TaskOf<Topics>>): Promise<NamedOutcomeConsumer>;
  consumeOutcomes(options: ConsumeOutcomesOptions<TaskOf<Topics>>): Promise<ChangeFeed>;
  async consumeOutcomes(options: ConsumeOutcomesOptions<TaskOf<Topics>>): Promise<ChangeFeed> {
    if (this.closed) throw closedError();
    let feed: ChangeFeed;
    try {
      feed = await this.outcomeConsumers.consume(options as ConsumeOutcomesOptions);
    } catch (error) {
      throw this.toExternalTaskError(error, 'consumeOutcomes');
    }
    if (this.closed) {
      await feed.close();
      throw closedError();
    }
    return feed;
  }

  /**
   * Stops listening to the repository, answers every waiting fetch with `[]`, rejects every
   * {@link waitForOutcome} with an `AbortError` and closes the feeds {@link consumeOutcomes} handed out.
   * Later fetches answer `[]` at once without claiming anything, and later `waitForOutcome` and
   * `consumeOutcomes` calls reject with an `AbortError`. Resolves once everything is closed. Safe to call
   * twice (both resolve together), but a second call from inside an `onOutcome` (or its last queued act)
   * resolves at once: the close under way waits for that very callback.
   */
  close(): Promise<void> {
    if (this.closing) return this.outcomeConsumers.calledFromConsumer ? Promise.resolve() : this.closing;
    this.closed = true;
    this.longPolls.close();
    this.outcomeWaiters.rejectAll(closedError());
    const closes = [this.attachment.close(), this.outcomeConsumers.closeAll()];
    this.closing = Promise.all(closes).then(() => undefined);
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

  /** The tasks claimed, at once or by a long poll: of the map's topics, as the engine's creates made them. */
  private fetch(identity: Identity | undefined, fetch: ValidFetch): Promise<TaskOf<Topics>[]> {
    // Nobody would receive the tasks: claim none rather than leave them locked until their locks expire.
    if (this.closed || fetch.signal?.aborted) return Promise.resolve([]);
    const claimed =
      !this.accessPolicy.scope && this.attachment.isAttached
        ? this.claim(fetch, undefined)
        : this.fetchOnceAttached(identity, fetch);
    // The store hands out the tasks the engine's creates made: of the map's topics.
    return claimed as Promise<TaskOf<Topics>[]>;
  }

  private async fetchOnceAttached(
    identity: Identity | undefined,
    fetch: ValidFetch,
  ): Promise<ExternalTask[]> {
    const scope = await scopeFor(this.accessPolicy, identity);
    await this.attached('fetchAndLock');
    if (this.closed || fetch.signal?.aborted) return [];
    return this.claim(fetch, scope);
  }

  /** Claims what `fetch` asks for; if nothing, waits as a long poll when it asks to. */
  private claim(fetch: ValidFetch, scope: TaskScope | undefined): Promise<ExternalTask[]> {
    const { workerId, topics, maxTasks } = fetch;
    const request: ClaimRequest =
      scope === undefined ? { workerId, topics, maxTasks } : { workerId, topics, maxTasks, scope };
    const announcementCount = this.longPolls.announcementCount;
    return this.repository.claim(request).then((tasks) => {
      if (tasks.length > 0 || fetch.longPollingTimeout === 0 || this.closed || fetch.signal?.aborted)
        return tasks;
      return this.longPolls.wait(request, fetch.longPollingTimeout, fetch.signal, announcementCount);
    });
  }

  /**
   * Asks the access policy, then runs `operation`; anything either throws or rejects with becomes the
   * facade's typed error. A policy that answers at once costs no extra turn.
   */
  private run<T>(
    identity: Identity | undefined,
    access: AccessRequest,
    operation: () => Promise<T>,
  ): Promise<T> {
    let answer: Promise<T>;
    try {
      const authorized = this.accessPolicy.authorize(identity, access);
      answer = isThenable(authorized) ? Promise.resolve(authorized).then(operation) : operation();
    } catch (error) {
      return Promise.reject(this.toExternalTaskError(error, access.operation));
    }
    return answer.then(undefined, this.rejections.of(access.operation));
  }

  private toExternalTaskError(error: unknown, operation: string): ExternalTaskError {
    if (!(error instanceof ExternalTaskError))
      this.logger.error(`${operation} failed unexpectedly.`, { error });
    return asExternalTaskError(error, `${operation} failed`);
  }

  private onChange(change: ExternalTaskChange): void {
    if (isOutcome(change)) this.outcomeWaiters.resolve(change.task);
    emitChangeEvent(this.events, change);
  }
}

function closedError(): DOMException {
  return new DOMException('The ExternalTaskApi was closed.', 'AbortError');
}
