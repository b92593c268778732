import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { ExternalTaskApi } from '../../lib/api/index.js';
import { BadRequestError, GoneError, InternalError, LockedError } from '../../lib/errors/index.js';
import type { ExternalTask } from '../../lib/model/index.js';
import { PostgresExternalTaskRepository } from '../../lib/postgres/index.js';
import { checkOptions } from '../../lib/postgres/options.js';
import type { ExternalTaskChange } from '../../lib/repository/index.js';
import { countBackends, eventually, terminateBackends } from './faults/backends.js';
import { FaultBed, identity } from './faults/fault-bed.js';
import { dropSchema, freshSchema, quietLogger, requireServer, sharedPglite } from './support.js';

/** The rejection of `promise` (fails when it resolves). */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (reason: unknown) => reason,
  );
}

/** Asserts a store failure as the facade and the store surface it: a 500 carrying the driver's error. */
function expectStoreFailure(error: unknown): void {
  expect(error).to.be.instanceOf(InternalError);
  expect(error).to.include({ status: 500, code: 'INTERNAL_ERROR' });
  expect((error as InternalError).cause).to.be.instanceOf(Error);
}

/** Positions 1..n, each once, in order: what a subscriber from the start must have seen. */
function expectGaplessFromStart(changes: readonly ExternalTaskChange[], end: number): void {
  expect(changes.map((change) => change.position)).to.deep.equal(
    Array.from({ length: end }, (_, i) => i + 1),
  );
}

/** A long poll of one task of `topic`, and a way to tell that it has made its first claim and waits. */
function longPoll(
  api: ExternalTaskApi,
  repository: PostgresExternalTaskRepository,
  topic: string,
  timeout = 60_000,
): { readonly answer: Promise<ExternalTask[]>; readonly waiting: Promise<void> } {
  const claim = repository.claim.bind(repository);
  let firstClaim: (() => void) | undefined;
  const waiting = new Promise<void>((resolve) => (firstClaim = resolve));
  // Observes the store's claims for this topic: once the first has answered, the poll waits for a hint.
  repository.claim = async (request) => {
    const answer = await claim(request);
    if (request.topics.some((t) => t.topicName === topic)) firstClaim?.();
    return answer;
  };
  const answer = api.fetchAndLockExternalTasks(identity, `poller-${topic}`, topic, 1, timeout, 60_000);
  return { answer, waiting };
}

describe('PostgresExternalTaskRepository faults: the database goes away and comes back', function () {
  this.timeout(60_000);
  let bed: FaultBed;

  before(async function () {
    await requireServer(this);
  });

  beforeEach(() => {
    bed = new FaultBed();
  });

  afterEach(async () => {
    await bed?.close();
  });

  it('recovers hints and the feed after its LISTEN connection is terminated: no gap, no duplicate, polls wake', async () => {
    const engine = bed.open('et-faults-listen');
    const writer = bed.open('et-faults-listen-writer');
    await engine.migrate();
    const api = bed.api(engine);
    const { changes } = await bed.record(engine);
    for (let i = 0; i < 3; i++) await writer.create(bed.newTask('before'));
    await eventually(() => changes.length === 3, 'the first changes');
    const during = longPoll(api, engine, 'created-during-outage');
    await during.waiting;
    const after = longPoll(api, engine, 'created-after-reconnect');
    await after.waiting;

    const killed = await terminateBackends(bed.admin, 'et-faults-listen', 'listen');
    expect(killed).to.equal(1);
    const duringTask = await writer.create(bed.newTask('created-during-outage'));
    for (let i = 0; i < 3; i++) await writer.create(bed.newTask('noise'));
    // The listener is back once a new LISTEN backend is there (the old one may linger a moment).
    await eventually(
      () => engine.log.some((message) => message.includes('LISTEN connection')),
      'the listener to notice',
    );
    await eventually(
      async () => (await countBackends(bed.admin, 'et-faults-listen', 'listen')) === 1,
      'a new LISTEN connection',
    );
    // A poll across the kill wakes for a task created while its hints were lost (the re-check) ...
    expect((await during.answer).map((task) => task.id)).to.deep.equal([duringTask.id]);
    // ... and for one created after the reconnection (a hint).
    const afterTask = await writer.create(bed.newTask('created-after-reconnect'));
    expect((await after.answer).map((task) => task.id)).to.deep.equal([afterTask.id]);

    const end = await writer.currentPosition();
    await eventually(
      () => changes.length >= end,
      () => `${end} changes (got ${changes.length})`,
    );
    expectGaplessFromStart(changes, end);
  });

  it('rejects while the database is unreachable, then recovers: refused connections, retries, a resumed feed', async () => {
    const { proxy, connectionString } = await bed.proxy();
    const engine = bed.open('et-faults-proxy', {}, connectionString);
    const writer = bed.open('et-faults-proxy-writer');
    await engine.migrate();
    const api = bed.api(engine);
    const { changes } = await bed.record(engine);
    await writer.create(bed.newTask('before'));
    await eventually(() => changes.length === 1, 'the first change');
    const poll = longPoll(api, engine, 'created-while-away');
    await poll.waiting;

    await proxy.cut();
    // What a caller sees while the database is away: a prompt 500 with the driver's error as cause.
    expectStoreFailure(await rejectionOf(engine.getById('00000000-0000-4000-8000-000000000000')));
    expectStoreFailure(
      await rejectionOf(api.fetchAndLockExternalTasks(identity, 'w', 'other', 1, 0, 10_000)),
    );
    const awayTask = await writer.create(bed.newTask('created-while-away'));
    for (let i = 0; i < 3; i++) await writer.create(bed.newTask('noise'));
    // Let the listener fail to reconnect at least twice (connection refused), so it is in its back-off.
    const failures = (): number => engine.log.filter((message) => message.includes('LISTEN')).length;
    await eventually(
      () => failures() >= 3,
      () => `failed reconnections (${failures()})`,
    );

    await proxy.restore();
    expect((await poll.answer).map((task) => task.id)).to.deep.equal([awayTask.id]);
    const end = await writer.currentPosition();
    await eventually(
      () => changes.length >= end,
      () => `${end} changes (got ${changes.length})`,
    );
    expectGaplessFromStart(changes, end);
    expect(await engine.getById(awayTask.id)).to.include({
      state: 'pending',
      workerId: 'poller-created-while-away',
    });
  });

  it('survives every backend of its application_name terminated at once, listener included', async () => {
    const engine = bed.open('et-faults-all');
    const writer = bed.open('et-faults-all-writer');
    await engine.migrate();
    const api = bed.api(engine);
    const { changes } = await bed.record(engine);
    for (let i = 0; i < 5; i++) await writer.create(bed.newTask('before'));
    await eventually(() => changes.length === 5, 'the first changes');
    const poll = longPoll(api, engine, 'after-the-fall');
    await poll.waiting;

    for (let round = 0; round < 3; round++) {
      // Each round once the store is connected again: its listener, and its pool (the feed's re-check). A
      // pool connection may close between the count and the kill (on a loaded machine): then the round's
      // kill took the listener alone, and it is tried again until it takes both.
      await eventually(
        async () =>
          (await countBackends(bed.admin, 'et-faults-all', 'listen')) === 1 &&
          (await countBackends(bed.admin, 'et-faults-all', 'pool')) > 0 &&
          (await terminateBackends(bed.admin, 'et-faults-all', 'all')) > 1,
        'every backend of the store, listener and pool, terminated at once',
      );
      await writer.create(bed.newTask('between-kills'));
    }
    const task = await writer.create(bed.newTask('after-the-fall'));
    expect((await poll.answer).map((claimed) => claimed.id)).to.deep.equal([task.id]);
    expect(await engine.countByTopic(['between-kills'])).to.have.deep.nested.property('[0].available', 3);
    const end = await writer.currentPosition();
    await eventually(
      () => changes.length >= end,
      () => `${end} changes (got ${changes.length})`,
    );
    expectGaplessFromStart(changes, end);
  });

  it('rejects failing calls while pool connections are terminated mid-run, never hangs, and loses no outcome', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const engine = bed.open('et-faults-pool');
      const creator = bed.open('et-faults-pool-creator');
      await engine.migrate();
      const api = bed.api(engine);
      const finishedEvents = new Map<string, number>();
      api.events.on('task:finished', ({ task }) => {
        finishedEvents.set(task.id, (finishedEvents.get(task.id) ?? 0) + 1);
      });
      const total = 150;
      const created = await creator.createMany(Array.from({ length: total }, () => bed.newTask('work')));

      const failures: unknown[] = [];
      let slowest = 0;
      /** One facade call, timed; a failure is recorded and answers `undefined`. */
      const call = async <T>(operation: () => Promise<T>): Promise<T | undefined> => {
        const started = Date.now();
        try {
          return await operation();
        } catch (error) {
          failures.push(error);
          return undefined;
        } finally {
          slowest = Math.max(slowest, Date.now() - started);
        }
      };
      let finished = 0;
      const deadline = Date.now() + 45_000;
      const worker = async (workerId: string): Promise<void> => {
        while (finished < total && Date.now() < deadline) {
          const tasks = await call(() =>
            api.fetchAndLockExternalTasks(identity, workerId, 'work', 2, 200, 1500),
          );
          for (const task of tasks ?? []) {
            // Retried until it is the worker's (finished by this call or one whose answer was lost),
            // or no longer the worker's (its lock ran out meanwhile): another worker finishes it.
            for (let attempt = 0; attempt < 100; attempt++) {
              const error = await api.finishExternalTask(identity, workerId, task.id, { by: workerId }).then(
                () => undefined,
                (reason: unknown) => reason,
              );
              if (error === undefined || error instanceof GoneError || error instanceof LockedError) break;
              failures.push(error);
              await new Promise((resolve) => setTimeout(resolve, 20));
            }
          }
          const counts = await call(() => creator.countByTopic(['work']));
          if (counts?.[0]) finished = counts[0].finished;
        }
      };
      let killing = true;
      let killed = 0;
      const killer = (async () => {
        for (let round = 0; round < 40 && killing; round++) {
          killed += await terminateBackends(bed.admin, 'et-faults-pool', 'pool');
          await new Promise((resolve) => setTimeout(resolve, 40));
        }
      })();
      await Promise.all(['w1', 'w2', 'w3', 'w4'].map(worker));
      killing = false;
      await killer;

      expect(killed, 'backends terminated').to.be.greaterThan(0);
      expect(failures.length, 'calls that failed').to.be.greaterThan(0);
      for (const failure of failures) expectStoreFailure(failure);
      expect(slowest, 'the slowest call (ms)').to.be.below(15_000);
      // Every task has exactly one outcome, and the engine heard it exactly once.
      const tasks = await Promise.all(created.map((task) => creator.getById(task.id)));
      expect(tasks.filter((task) => task?.state === 'finished')).to.have.length(total);
      await eventually(
        () => finishedEvents.size === total,
        () => `outcome events (${finishedEvents.size})`,
      );
      expect([...finishedEvents.values()].every((count) => count === 1)).to.equal(true);
      const { changes } = await bed.record(creator);
      const end = await creator.currentPosition();
      await eventually(() => changes.length >= end, 'the whole feed');
      const outcomes = changes.filter((change) => change.type === 'finished');
      expect(new Set(outcomes.map((change) => change.task.id)).size).to.equal(total);
      expect(outcomes).to.have.length(total);
      expect(unhandled).to.deep.equal([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('surfaces a statement timeout as an InternalError whose cause is the pg error, then answers again', async () => {
    const repository = bed.open('et-faults-timeout', { statementTimeout: 300, poolSize: 2 });
    await repository.migrate();
    const api = bed.api(repository);
    await repository.create(bed.newTask('slow'));
    const blocker = await bed.admin.connect();
    try {
      // Another connection holds the table: the store's next statements wait, until their timeout.
      await blocker.query('BEGIN');
      await blocker.query(`LOCK TABLE "${bed.schema}".tasks IN ACCESS EXCLUSIVE MODE`);
      const direct = await rejectionOf(repository.countByTopic(['slow']));
      expectStoreFailure(direct);
      expect((direct as InternalError).cause).to.include({ code: '57014' }); // query_canceled
      const viaFacade = await rejectionOf(api.fetchAndLockExternalTasks(identity, 'w', 'slow', 1, 0, 10_000));
      expectStoreFailure(viaFacade);
      expect((viaFacade as InternalError).cause).to.include({ code: '57014' });
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
    }
    expect(await api.fetchAndLockExternalTasks(identity, 'w', 'slow', 1, 0, 10_000)).to.have.length(1);
  });

  it('opens at most poolSize connections, plus one that listens, all named by applicationName', async () => {
    const repository = bed.open('et-faults-pool-size', { poolSize: 2 });
    await repository.migrate();
    await repository.subscribe({ onChange: () => undefined });
    await Promise.all(Array.from({ length: 20 }, () => repository.create(bed.newTask('many'))));
    expect(await countBackends(bed.admin, 'et-faults-pool-size', 'pool')).to.be.within(1, 2);
    expect(await countBackends(bed.admin, 'et-faults-pool-size', 'listen')).to.equal(1);
  });

  it('keeps answering with a pool of one connection while it listens', async () => {
    const repository = bed.open('et-faults-pool-of-one', { poolSize: 1 });
    await repository.migrate();
    const { changes } = await bed.record(repository);
    await repository.create(bed.newTask('one'));
    await eventually(() => changes.length === 1, 'the change', 5000);
  });

  it('leaves no timer or socket behind when closed while reconnecting: the process exits by itself', async () => {
    const script = fileURLToPath(new URL('./faults/close-while-reconnecting.ts', import.meta.url));
    const { stdout, code } = await new Promise<{ stdout: string; code: number | null }>((resolve) => {
      const child = execFile(
        process.execPath,
        ['--import', 'tsx', script, bed.schema],
        { timeout: 30_000, env: process.env },
        (error, out) => resolve({ stdout: out, code: error ? ((error.code as number | null) ?? -1) : 0 }),
      );
      child.stdin?.end();
    });
    expect(stdout).to.include('closed while reconnecting');
    expect(stdout, stdout).to.include('after close: 0 messages, holding: []');
    expect(code, stdout).to.equal(0);
  });
});

describe('PostgresExternalTaskRepository options', () => {
  it('defaults to a pool of 10, a statement timeout of 30 s and application_name external-task-api', () => {
    expect(checkOptions({ schema: 'x' })).to.include({
      poolSize: 10,
      statementTimeout: 30_000,
      applicationName: 'external-task-api',
    });
  });

  it('keeps final tasks for 7 days by default, for good with Infinity, and refuses a negative retention', () => {
    expect(checkOptions({ schema: 'x' }).finalTaskRetention).to.equal(7 * 24 * 3600 * 1000);
    expect(checkOptions({ schema: 'x', finalTaskRetention: Infinity }).finalTaskRetention).to.equal(Infinity);
    expect(() => checkOptions({ schema: 'x', finalTaskRetention: -1 }))
      .to.throw(BadRequestError)
      .with.property('argument', 'finalTaskRetention');
  });
});

describe('PostgresExternalTaskRepository faults on PGlite', function () {
  this.timeout(60_000);

  it('surfaces a failing statement as an InternalError with the cause, and answers after it', async () => {
    const pglite = await sharedPglite();
    const schema = freshSchema();
    const repository = new PostgresExternalTaskRepository({ pglite }, { schema, logger: quietLogger() });
    try {
      const error = await rejectionOf(repository.countByTopic());
      expectStoreFailure(error);
      expect((error as InternalError).cause).to.include({ code: '3F000' }); // not migrated yet
      await repository.migrate();
      await repository.create({
        topic: 't',
        flowNodeInstanceId: 'f',
        correlationId: 'c',
        processInstanceId: 'p',
      });
      expect(await repository.countByTopic(['t'])).to.have.deep.nested.property('[0].available', 1);
    } finally {
      await repository.close();
      await dropSchema(pglite, schema);
    }
  });
});
