import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { expect } from 'chai';
import { ExternalTaskApi, LockedError, type ExternalTaskOutcome } from '../../lib/index.js';
import type { ExternalTask } from '../../lib/model/index.js';
import { PostgresExternalTaskRepository, type PostgresConnection } from '../../lib/postgres/index.js';
import type { ClaimRequest } from '../../lib/repository/index.js';
import { dropServerSchema, freshSchema, quietLogger, requireServer, serverUrl } from './support.js';

/**
 * Where the durable store lives, opened afresh for each "process life": the server (a new pool each
 * time), or PGlite on a data directory (a new PGlite each time, closed at the end of each life).
 */
interface Backend {
  /** Opens a connection for one life of the engine or of a worker process. */
  open(): Promise<PostgresConnection>;
  /** Closes what `open()` opened that the store does not close (the PGlite). */
  shut(): Promise<void>;
  /** Removes everything the test left (schema, data directory). */
  cleanup(): Promise<void>;
}

function serverBackend(schema: string): Backend {
  return {
    open: () => Promise.resolve({ connectionString: serverUrl }),
    shut: () => Promise.resolve(),
    cleanup: () => dropServerSchema(schema),
  };
}

function pgliteBackend(): Backend {
  let dataDir: string | undefined;
  let open: PGlite | undefined;
  return {
    open: async () => {
      dataDir ??= await mkdtemp(join(tmpdir(), 'et-restart-'));
      open = await PGlite.create(dataDir);
      return { pglite: open };
    },
    shut: async () => {
      await open?.close();
      open = undefined;
    },
    cleanup: async () => {
      await open?.close();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Waits (a real-time bound, polling) until `done()` holds; fails saying what did not happen. */
async function eventually(done: () => boolean, what: () => string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) expect.fail(`gave up after ${ms} ms waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Resolves with `promise`, or fails naming `what` after `ms`. */
async function within<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`gave up after ${ms} ms waiting for ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The repository as the api sees it, telling `onClaim` what each claim answered. */
function observingClaims(
  repository: PostgresExternalTaskRepository,
  onClaim: (request: ClaimRequest, tasks: readonly ExternalTask[]) => void,
): PostgresExternalTaskRepository {
  return new Proxy(repository, {
    get(target, property) {
      if (property === 'claim') {
        return async (request: ClaimRequest) => {
          const tasks = await target.claim(request);
          onClaim(request, tasks);
          return tasks;
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

async function allTasks(repository: PostgresExternalTaskRepository): Promise<ExternalTask[]> {
  return (await repository.query({ limit: 1000 })).tasks;
}

/** One life of a process: its connection, its store, its api. */
interface Life {
  readonly connection: PostgresConnection;
  readonly repository: PostgresExternalTaskRepository;
  readonly api: ExternalTaskApi;
}

function describeRestart(name: string, makeBackend: (schema: string) => Backend, needsServer: boolean): void {
  describe(`PostgresExternalTaskRepository across a restart (${name})`, function () {
    this.timeout(60_000);
    const schema = freshSchema();
    const logger = quietLogger();
    const identity = { token: 'worker' };
    const lockDuration = 600_000;
    let backend: Backend;
    const toClose: { close(): Promise<void> }[] = [];

    before(async function () {
      if (needsServer) await requireServer(this);
      backend = makeBackend(schema);
    });

    after(async () => {
      for (const closable of toClose.reverse()) await closable.close().catch(() => undefined);
      await backend?.cleanup();
    });

    /** One life of a process: a new repository on a new connection, migrated, and its api. */
    async function start(
      onClaim?: (request: ClaimRequest, tasks: readonly ExternalTask[]) => void,
    ): Promise<Life> {
      const connection = await backend.open();
      const repository = new PostgresExternalTaskRepository(connection, { schema, logger });
      toClose.push(repository);
      await repository.migrate();
      const api = new ExternalTaskApi({
        repository: onClaim ? observingClaims(repository, onClaim) : repository,
        logger,
      });
      toClose.push(api);
      return { connection, repository, api };
    }

    async function stop({ repository, api }: Life): Promise<void> {
      await api.close();
      await repository.close();
      await backend.shut();
    }

    it('keeps tasks, outcomes, locks and the engine resume position; resumes outcomes exactly once', async () => {
      // ── First life: the engine and a worker share the store. ──
      const first = await start();
      let storedPosition = 0; // what the engine keeps across its restart (here: a variable)
      const handled: ExternalTaskOutcome[] = [];
      await first.api.consumeOutcomes({
        after: storedPosition,
        onOutcome: (outcome) => {
          handled.push(outcome);
          storedPosition = outcome.position;
        },
      });
      const tasks = await first.repository.createMany(
        Array.from({ length: 10 }, (_, i) => ({
          topic: 'invoice',
          correlationId: `invoice-${i}`,
          processInstanceId: `pi-${i}`,
          flowNodeInstanceId: `fni-${i}`,
          payload: { invoice: i, lines: [{ item: 'book', amount: 10 * i }] },
          ...(i === 4 && { retries: 3 }),
        })),
      );
      const t = tasks.map((task) => task.id);
      const locked = await first.api.fetchAndLock(identity, {
        workerId: 'w1',
        topics: [{ topicName: 'invoice', lockDuration }],
        maxTasks: 8,
      });
      expect(locked.map((task) => task.id)).to.deep.equal(t.slice(0, 8));
      await first.api.finishExternalTask(identity, 'w1', t[0]!, { paid: true, amount: 0 });
      await first.api.finishExternalTask(identity, 'w1', t[1]!, 0);
      await first.api.handleBpmnError(identity, 'w1', t[2]!, 'REJECTED', 'no such customer');
      await first.api.handleServiceError(identity, 'w1', t[3]!, 'printer on fire', { tray: 2 });
      await first.api.handleServiceError(identity, 'w1', t[4]!, 'gateway down', undefined, {
        retries: 2,
        retryTimeout: lockDuration,
      });
      expect(await first.repository.cancel({ externalTaskId: t[9]! })).to.equal(1);
      // t5, t6, t7 stay locked by w1; t8 stays available; t4 waits for its retry.
      const outcomesBefore = [t[0], t[1], t[2], t[3], t[9]];
      await eventually(
        () => handled.length === outcomesBefore.length,
        () => `${outcomesBefore.length} outcomes (got ${handled.length})`,
      );
      expect(handled.map((outcome) => outcome.task.id)).to.deep.equal(outcomesBefore);
      const beforeStop = await allTasks(first.repository);
      await stop(first);

      // ── The engine is down; a worker process opens the store again and reports. ──
      const worker = await start();
      expect(await allTasks(worker.repository), 'the store as it was before the stop').to.deep.equal(
        beforeStop,
      );
      const finished = (await worker.repository.getById(t[0]!))!;
      expect(finished).to.include({ state: 'finished', workerId: 'w1' });
      expect(finished.result).to.deep.equal({ paid: true, amount: 0 });
      expect((await worker.repository.getById(t[1]!))!.result).to.equal(0);
      expect((await worker.repository.getById(t[2]!))!.error).to.deep.equal({
        type: 'bpmn',
        errorCode: 'REJECTED',
        errorMessage: 'no such customer',
      });
      expect((await worker.repository.getById(t[3]!))!.error).to.deep.equal({
        type: 'service',
        errorMessage: 'printer on fire',
        errorDetails: { tray: 2 },
      });
      const retrying = (await worker.repository.getById(t[4]!))!;
      expect(retrying).to.include({ state: 'pending', retries: 2 });
      expect(retrying.retryAt).to.be.instanceOf(Date);
      const held = (await worker.repository.getById(t[5]!))!;
      expect(held).to.include({ state: 'pending', workerId: 'w1' });
      expect(held.lockExpirationTime).to.deep.equal(locked[5]!.lockExpirationTime);
      // The lock survived: another worker is refused, its holder may report.
      try {
        await worker.api.finishExternalTask(identity, 'w2', t[6]!, 'stolen');
        expect.fail('w2 finished a task w1 holds');
      } catch (error) {
        expect(error).to.be.instanceOf(LockedError);
        expect((error as LockedError).code).to.equal('TASK_LOCKED');
      }
      await worker.api.finishExternalTask(identity, 'w1', t[5]!, { paid: true, amount: 50 });
      await worker.api.handleBpmnError(identity, 'w1', t[6]!, 'DISPUTED');
      const [available] = await worker.api.fetchAndLock(identity, {
        workerId: 'w2',
        topics: [{ topicName: 'invoice', lockDuration }],
        maxTasks: 5,
      });
      expect(available?.id).to.equal(t[8]);
      await worker.api.finishExternalTask(identity, 'w2', t[8]!, { paid: true, amount: 80 });
      const outcomesWhileDown = [t[5], t[6], t[8]];
      const beforeRestart = await allTasks(worker.repository);
      await stop(worker);

      // ── The engine starts again from scratch and resumes after its stored position. ──
      const claims: { topics: string[]; count: number }[] = [];
      const engine = await start((request, claimed) =>
        claims.push({ topics: request.topics.map((topic) => topic.topicName), count: claimed.length }),
      );
      expect(await allTasks(engine.repository), 'the store as the worker left it').to.deep.equal(
        beforeRestart,
      );
      const resumed: ExternalTaskOutcome[] = [];
      await engine.api.consumeOutcomes({
        after: storedPosition,
        onOutcome: (outcome) => void resumed.push(outcome),
      });
      // An outcome after the restart marks the end: whatever came before it was delivered by then.
      await engine.api.finishExternalTask(identity, 'w1', t[7]!, { paid: true, amount: 70 });
      await eventually(
        () => resumed.some((outcome) => outcome.task.id === t[7]),
        () => `the outcome after the restart (resumed: ${resumed.map((outcome) => outcome.task.id).join()})`,
      );
      expect(resumed.map((outcome) => outcome.task.id)).to.deep.equal([...outcomesWhileDown, t[7]]);
      expect(resumed.map((outcome) => outcome.task.state)).to.deep.equal([
        'finished',
        'failed',
        'finished',
        'finished',
      ]);
      const positions = resumed.map((outcome) => outcome.position);
      expect(positions[0]).to.be.greaterThan(storedPosition);
      expect([...positions].sort((a, b) => a - b)).to.deep.equal(positions);
      expect(new Set(positions).size).to.equal(positions.length);

      // A long poll on the reopened store wakes when another store creates a task (on the server, with a
      // pool and a LISTEN connection of its own, as another process would; on PGlite, in the same one).
      const other = new PostgresExternalTaskRepository(engine.connection, { schema, logger });
      toClose.push(other);
      const poll = engine.api.fetchAndLock(identity, {
        workerId: 'w3',
        topics: [{ topicName: 'after-restart', lockDuration }],
        maxTasks: 1,
        longPollingTimeout: 20_000,
      });
      await eventually(
        () => claims.some((claim) => claim.topics.includes('after-restart') && claim.count === 0),
        () => 'the long poll to find nothing and wait',
      );
      const startedAt = Date.now();
      const created = await other.create({
        topic: 'after-restart',
        correlationId: 'late',
        processInstanceId: 'pi-late',
        flowNodeInstanceId: 'fni-late',
      });
      const [woken] = await within(poll, 'the long poll to resolve');
      expect(woken?.id, 'the long poll answered the new task').to.equal(created.id);
      console.log(
        `      (${name}: the waiting long poll got the task ${Date.now() - startedAt} ms after its creation)`,
      );
      expect(logger.messages, 'what the stores and apis logged').to.deep.equal([]);
      await other.close();
      await stop(engine);
    });
  });
}

describeRestart('server', serverBackend, true);
describeRestart('PGlite with a data directory', () => pgliteBackend(), false);
