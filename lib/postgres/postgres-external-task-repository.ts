import { consoleLogger, type Logger } from '../logging/index.js';
import type { ExternalTask, NewExternalTask } from '../model/index.js';
import { AvailabilityAnnouncer } from '../repository/availability-announcer.js';
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
  ConsumerLeases,
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
  TaskScope,
  TopicTaskCounts,
  UnlockRequest,
} from '../repository/index.js';
import {
  validateNewTask,
  validateNewTasks,
  validateScope,
  validateRequestShape,
  validateSetRetries,
  validateTopicNames,
  type ValidNewTask,
} from '../repository/repository-arguments.js';
import { limits, requireInteger } from '../validation/index.js';
import {
  claimBatcher,
  claimCall,
  pgliteSharing,
  requireText,
  scopeFields,
  serverSharing,
  writeBatcher,
  writeCall,
  writeResult,
  type ClaimCall,
  type StatementBatcher,
  type WriteAnswer,
  type WriteCall,
} from './batching/index.js';
import type { Driver } from './driver/driver.js';
import { openDriver } from './driver/open-driver.js';
import { PgliteDriver } from './driver/pglite-driver.js';
import { PostgresConsumerLeases } from './consumer-leases.js';
import { PostgresEngineOperations } from './engine-operations.js';
import { migrateSchema } from './migrate-schema.js';
import { FinalTaskSweep } from './final-task-sweep.js';
import { NotificationListener } from './notification-listener.js';
import {
  checkOptions,
  type PostgresConnection,
  type PostgresExternalTaskRepositoryOptions,
  type Settings,
} from './options.js';
import { PostgresChangeFeed } from './feed/postgres-change-feed.js';
import type { ChangeRecorder } from './feed/local-offers.js';
import * as sql from './sql/index.js';
import type { HeldTaskWriteKind } from './sql/write-task.js';
import { StoreCalls } from './store-calls.js';
import { isTaskId } from './task-id.js';
import { toTask, type TaskRecord } from './task-record.js';

/**
 * The durable store on PostgreSQL — a server shared by several processes and machines, or an embedded
 * PGlite — with one code path for both. Every operation is one statement (a claim, a conditional write
 * with its change and its hint), so the database makes it atomic; see `lib/postgres/sql/` for each
 * statement and the reasons of each index, and `docs/postgres-plans.md` for their plans. Since a
 * statement's commit is what it costs, concurrent claims and conditional writes of one process share
 * statements (`lib/postgres/batching/`): what is asked while a statement of its kind is in flight goes in
 * the next one, and each caller still gets its own tasks or its own answer.
 *
 * Announcements: availability hints travel by NOTIFY on the channel named after the schema and are heard
 * on one LISTEN connection per store (reconnected when lost); the change feed is an outbox table whose
 * rows get their positions from the statement that records them, in commit order, so no reader can see a gap (`PostgresChangeFeed`).
 *
 * Before first use, `migrate()` creates or upgrades the schema; `close()` releases what the store opened.
 *
 * @example
 * ```ts
 * import { PostgresExternalTaskRepository } from 'external-task-api/postgres';
 *
 * const repository = new PostgresExternalTaskRepository(
 *   { connectionString: 'postgres://postgres@127.0.0.1:5432/app' },
 *   { schema: 'external_tasks' },
 * );
 * await repository.migrate();
 * const api = new ExternalTaskApi({ repository });
 * // …
 * await repository.close();
 * ```
 */
export class PostgresExternalTaskRepository implements ExternalTaskRepository {
  private readonly settings: Settings;
  private readonly driver: Driver;
  private readonly recorder: ChangeRecorder;
  private readonly names: sql.SqlNames;
  private readonly statements: sql.StoreStatements;
  private readonly feed: PostgresChangeFeed;
  private readonly listener: NotificationListener;
  private readonly availability: AvailabilityAnnouncer;
  private readonly logger: Logger;
  private readonly claims: StatementBatcher<ClaimCall, ExternalTask[]>;
  private readonly writes: Record<HeldTaskWriteKind | 'setRetries', StatementBatcher<WriteCall, WriteAnswer>>;
  private readonly sweep: FinalTaskSweep;
  private readonly engine: PostgresEngineOperations;
  private closing: Promise<void> | undefined;
  /** The calls in progress, which {@link close} lets finish. */
  private readonly calls = new StoreCalls();
  /** Named consumers' positions and leases (schema version 10), timed as the tasks' locks are. */
  readonly consumerLeases: ConsumerLeases;

  constructor(connection: PostgresConnection, options: PostgresExternalTaskRepositoryOptions) {
    this.settings = checkOptions(options);
    this.names = sql.sqlNames(options.schema);
    this.logger = options.logger ?? consoleLogger;
    this.driver = openDriver(connection, this.settings, (error: unknown) =>
      this.logger.warn('An idle connection of the PostgreSQL store failed.', { error }),
    );
    this.statements = sql.storeStatements(
      this.names,
      this.settings.changesRetained,
      this.settings.finalTaskRetention === 0 ? 'deleted' : 'kept',
    );
    // Concurrent claims and writes of this process share statements (see lib/postgres/batching/).
    const sharing = this.driver instanceof PgliteDriver ? pgliteSharing : serverSharing;
    const held = this.statements.held;
    this.feed = new PostgresChangeFeed(
      this.driver,
      sql.changeFeedStatements(this.names),
      this.settings,
      this.logger,
    );
    // The statements that record changes run through the feed's recorder: it knows they are in flight,
    // and is offered what they recorded.
    const recorder = (this.recorder = this.feed.recorder);
    this.claims = claimBatcher(recorder, this.statements.claim, sharing);
    this.writes = {
      extendLock: writeBatcher(recorder, held.extendLock, sharing),
      unlock: writeBatcher(recorder, held.unlock, sharing),
      finish: writeBatcher(recorder, held.finish, sharing),
      fail: writeBatcher(recorder, held.fail, sharing),
      scheduleRetry: writeBatcher(recorder, held.scheduleRetry, sharing),
      setRetries: writeBatcher(recorder, this.statements.setRetries, sharing),
    };
    this.engine = new PostgresEngineOperations(recorder, this.driver, this.names, this.statements, () =>
      this.now(),
    );
    this.availability = new AvailabilityAnnouncer(this.logger);
    const now = (): number | null => this.now();
    this.consumerLeases = new PostgresConsumerLeases(this.calls, this.driver, this.statements, now);
    this.sweep = new FinalTaskSweep(
      this.driver,
      this.statements.pruneFinal,
      () => this.now(),
      this.settings.finalTaskRetention,
      this.logger,
    );
    this.listener = new NotificationListener(
      this.driver,
      this.names.name,
      {
        onHints: (hints) => this.availability.announce(hints),
        onRecorded: (through) => this.feed.wakeSubscriptions(through),
        onReconnected: () => this.feed.wakeSubscriptions(),
      },
      this.logger,
    );
  }

  /**
   * Creates the schema or brings it to the latest version: each missing migration once, in order, in one
   * transaction under an advisory lock, so several processes may call it at once. Idempotent.
   */
  migrate(): Promise<void> {
    return this.calls.run(migrateSchema(this.driver, this.statements.migrate, this.names)).then(() => {
      if (!this.closing) this.sweep.start();
    });
  }

  /**
   * Stops listening, delivering and sweeping, lets the calls made before it finish (their statements may
   * be waiting for a connection), then ends the pool if the store opened it. A call made after it is
   * refused at once with an `InternalError`. Safe to call twice; a second call from inside a subscriber's
   * callback (or its last queued act) resolves at once: the first waits for that callback.
   */
  close(): Promise<void> {
    if (this.closing && this.feed.calledFromSubscriber) return Promise.resolve();
    this.closing ??= (async () => {
      const settled = this.calls.close();
      this.sweep.stop();
      await this.feed.close();
      await this.listener.close();
      await settled;
      await this.driver.close();
    })();
    return this.closing;
  }

  create(input: NewExternalTask): Promise<ExternalTask> {
    return this.calls.run(async () => {
      const [task] = await this.insert([validateNewTask(input)]);
      return task as ExternalTask;
    });
  }

  createMany(inputs: readonly NewExternalTask[]): Promise<ExternalTask[]> {
    return this.calls.run(async () => {
      const valid = validateNewTasks(inputs);
      return valid.length === 0 ? [] : this.insert(valid);
    });
  }

  getById(externalTaskId: string): Promise<ExternalTask | undefined> {
    return this.calls.run(async () => {
      if (!isTaskId(externalTaskId)) return undefined;
      const [row] = await this.driver.query<{ record: TaskRecord }>(this.statements.get, [externalTaskId]);
      return row && toTask(row.record);
    });
  }

  /**
   * One claim statement, shared with the claims of the same topics and scope that this process asks for
   * in the same turn of the event loop or while another claim statement is in flight (each caller still
   * gets its own tasks, at most its maxTasks); alone, the statement starts at the end of the turn.
   */
  claim(request: ClaimRequest): Promise<ExternalTask[]> {
    return this.calls.run(async () => {
      validateRequestShape(request, 'topics');
      if (request.topics.length === 0) return [];
      return this.claims.submit(claimCall(request, this.now()));
    });
  }

  extendLock(request: ExtendLockRequest): Promise<ConditionalWriteResult> {
    return this.writeHeld('extendLock', request, () => ({
      lockDuration: requireInteger('lockDuration', request.lockDuration, 0, limits.maxDuration),
    }));
  }

  unlock(request: UnlockRequest): Promise<ConditionalWriteResult> {
    return this.writeHeld('unlock', request, () => ({}));
  }

  async complete(request: CompleteRequest): Promise<ConditionalWriteResult> {
    validateRequestShape(request, 'outcome');
    const { outcome } = request;
    if (outcome.state === 'finished') {
      return this.writeHeld('finish', request, () => ({
        result: outcome.result === undefined ? null : JSON.stringify(outcome.result),
      }));
    }
    const error = JSON.stringify(outcome.error);
    const retry = 'retry' in outcome ? outcome.retry : undefined;
    if (retry && retry.retries > 0) {
      return this.writeHeld('scheduleRetry', request, () => ({
        error,
        retries: requireInteger('retries', retry.retries, 0, limits.maxRetries),
        retryTimeout: requireInteger('retryTimeout', retry.retryTimeout, 0, limits.maxDuration),
      }));
    }
    return this.writeHeld('fail', request, () => ({ error, retryAsked: retry !== undefined }));
  }

  cancel(selector: CancelSelector): Promise<number> {
    return this.calls.run(() => this.engine.cancel(selector));
  }

  setRetries(
    externalTaskId: string,
    retries: number,
    options?: SetRetriesOptions,
  ): Promise<SetRetriesResult> {
    return this.calls.run(async (): Promise<SetRetriesResult> => {
      const valid = validateSetRetries(externalTaskId, retries, options);
      if (!isTaskId(externalTaskId)) return { status: 'not-found' };
      const answer = await this.writes.setRetries.submit(
        writeCall(this.now(), externalTaskId, { ...valid, retryTimeout: valid.retryTimeout ?? null }),
      );
      const result = writeResult(answer, undefined);
      return result.status === 'locked' ? { status: 'gone', task: result.task } : result;
    });
  }

  forceUnlock(externalTaskId: string): Promise<EngineWriteResult> {
    return this.calls.run(() => this.engine.forceUnlock(externalTaskId));
  }

  setPriority(externalTaskId: string, priority: number): Promise<EngineWriteResult> {
    return this.calls.run(() => this.engine.setPriority(externalTaskId, priority));
  }

  deleteFinalTasks(selector: FinalTaskSelector): Promise<number> {
    return this.calls.run(() => this.engine.deleteFinalTasks(selector));
  }

  query(filter: ExternalTaskQuery): Promise<ExternalTaskPage> {
    return this.calls.run(() => this.engine.query(filter));
  }

  countByTopic(filter?: TaskCountFilter | readonly string[]): Promise<TopicTaskCounts[]> {
    return this.calls.run(() => this.engine.countByTopic(filter));
  }

  msUntilNextAvailable(topicNames: readonly string[], scope?: TaskScope): Promise<number | undefined> {
    return this.calls.run(async () => {
      const topics = validateTopicNames('topicNames', topicNames);
      const validScope = validateScope(scope);
      if (topics.length === 0) return undefined;
      const [row] = await this.driver.query<{ ms: number | null }>(this.statements.nextAvailable, [
        this.now(),
        topics,
        ...scopeParams(validScope),
      ]);
      return row?.ms ?? undefined;
    });
  }

  watchAvailability(listener: AvailabilityListener): Promise<AvailabilityWatch> {
    return this.calls.run(async () => {
      if (typeof listener !== 'function')
        throw new TypeError('watchAvailability: listener must be a function.');
      await this.listener.start();
      // Hints of statements that committed before the watch began are not its to hear: they arrive
      // before the barrier, which is sent after them.
      await this.listener.barrier();
      return this.availability.watch(listener);
    });
  }

  subscribe(subscriber: ChangeSubscriber): Promise<ChangeFeed> {
    return this.calls.run(async () => {
      await this.listener.start();
      return this.feed.subscribe(subscriber);
    });
  }

  currentPosition(): Promise<ChangePosition> {
    return this.calls.run(() => this.feed.currentPosition());
  }

  /** The time the statements use: the injected clock's, or NULL for the database's own. */
  private now(): number | null {
    // Whole ms: the statements take the time as a bigint, and the records carry ms.
    return this.settings.clock ? Math.floor(this.settings.clock.now()) : null;
  }

  private async insert(tasks: readonly ValidNewTask[]): Promise<ExternalTask[]> {
    const rows = await this.recorder.record<{ record: TaskRecord } & sql.Recording>(this.statements.create, [
      this.now(),
      sql.newTasksParameter(tasks),
    ]);
    return rows.map((row) => toTask(row.record));
  }

  /**
   * One conditional write of a held task, in a statement shared with the writes of its kind that this
   * process asks for while another is in flight.
   * `fields` are the kind's own, checked before the write joins a statement others share.
   */
  private writeHeld(
    kind: HeldTaskWriteKind,
    request: HeldTaskRequest,
    fields: () => Readonly<Record<string, unknown>>,
  ): Promise<ConditionalWriteResult> {
    return this.calls.run(async () => {
      validateRequestShape(request);
      const { externalTaskId, workerId, scope } = request;
      const validScope = validateScope(scope);
      const call = writeCall(this.now(), externalTaskId, {
        workerId: requireText('workerId', workerId),
        ...scopeFields(validScope),
        ...fields(),
      });
      if (!isTaskId(externalTaskId)) return { status: 'not-found' };
      return writeResult(await this.writes[kind].submit(call), validScope);
    });
  }
}

/** The scope's lists as statement parameters (NULL for a list the scope leaves out). */
function scopeParams(scope: TaskScope | undefined): [readonly string[] | null, readonly string[] | null] {
  return [scope?.tenantIds ?? null, scope?.processModelIds ?? null];
}
