import { expect } from 'chai';
import { PostgresExternalTaskRepository } from '../../lib/postgres/index.js';
import type { ChangeFeedResync, ChangePosition, ExternalTaskChange } from '../../lib/repository/index.js';
import { deferred } from '../support/fixtures.js';
import { dropSchema, freshSchema, quietLogger, serverUrl, useServerAdmin } from './support.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('PostgresExternalTaskRepository change feed: delivery under load, backlog and failing callbacks', function () {
  this.timeout(30_000);
  const admin = useServerAdmin();
  let schema: string;
  const opened: PostgresExternalTaskRepository[] = [];
  const open = (options: { changesRetained?: number; safetyRecheckInterval?: number } = {}) => {
    const repository = new PostgresExternalTaskRepository(
      { connectionString: serverUrl },
      { schema, logger: quietLogger(), poolSize: 4, ...options },
    );
    opened.push(repository);
    return repository;
  };
  const newTasks = (count: number, from: number) =>
    Array.from({ length: count }, (_, i) => ({
      topic: 'edge',
      flowNodeInstanceId: `f-${from + i}`,
      correlationId: 'c',
      processInstanceId: 'p',
    }));

  beforeEach(() => {
    schema = freshSchema();
  });

  afterEach(async () => {
    for (const repository of opened.splice(0)) await repository.close();
    await dropSchema(admin.pool, schema);
  });

  it('reads a backlog of statements of 1,000 changes each (more than a page) once each, whole, in order', async () => {
    const writer = open();
    await writer.migrate();
    for (let statement = 0; statement < 3; statement++) {
      await writer.createMany(newTasks(1000, statement * 1000));
    }
    await writer.createMany(newTasks(1, 3000));
    const reader = open({ safetyRecheckInterval: 60_000 });
    const positions: ChangePosition[] = [];
    const feed = await reader.subscribe({
      after: 0,
      onChange: (change) => void positions.push(change.position),
    });
    try {
      const start = Date.now();
      while (positions.length < 3001 && Date.now() - start < 20_000) await pause(10);
      await pause(50);
      expect(positions).to.deep.equal(Array.from({ length: 3001 }, (_, i) => i + 1));
    } finally {
      await feed.close();
    }
  });

  it("delivers another process's change on its notification while this process's statements keep overlapping", async () => {
    const engine = open({ safetyRecheckInterval: 60_000 });
    const writer = open();
    await engine.migrate();
    const seenAt = new Map<string, number>();
    await engine.subscribe({ onChange: (change) => void seenAt.set(change.task.id, Date.now()) });
    // Claims of distinct topics never share a statement: two are in flight at every moment.
    let stop = false;
    const pollers = Array.from({ length: 6 }, async (_, n) => {
      while (!stop) {
        await engine.claim({
          topics: [{ topicName: `idle-${n}`, lockDuration: 1000 }],
          workerId: 'w',
          maxTasks: 1,
        });
      }
    });
    try {
      await pause(100);
      const [task] = await writer.createMany(newTasks(1, 0));
      const createdAt = Date.now();
      while (!seenAt.has(task!.id) && Date.now() - createdAt < 10_000) await pause(10);
      expect(seenAt.get(task!.id), 'delivered within 10 s (the safety re-check is 60 s)').to.be.a('number');
    } finally {
      stop = true;
      await Promise.all(pollers);
    }
  });

  it("delivers another process's change while a statement of this process waits for a lock", async () => {
    const engine = open({ safetyRecheckInterval: 60_000 });
    const writer = open();
    await engine.migrate();
    await engine.createMany(newTasks(1, 0));
    const [claimed] = await engine.claim({
      topics: [{ topicName: 'edge', lockDuration: 60_000 }],
      workerId: 'w',
      maxTasks: 1,
    });
    const seen = new Set<string>();
    await engine.subscribe({ onChange: (change) => void seen.add(change.task.id) });
    // A transaction of its own holds the task's row, so the engine's finish of it waits, in flight.
    const blocker = await admin.pool.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(`SELECT 1 FROM "${schema}".tasks WHERE id = $1 FOR UPDATE`, [claimed!.id]);
      const finishing = engine.complete({
        externalTaskId: claimed!.id,
        workerId: 'w',
        outcome: { state: 'finished', result: null },
      });
      const waiting = async () =>
        (
          await admin.pool.query<{ count: number }>(
            `SELECT count(*)::int AS count FROM pg_stat_activity
             WHERE wait_event_type = 'Lock' AND query LIKE '%json_to_recordset%'`,
          )
        ).rows[0]!.count;
      while ((await waiting()) === 0) await pause(10);

      const [task] = await writer.createMany(newTasks(1, 1));
      const createdAt = Date.now();
      while (!seen.has(task!.id) && Date.now() - createdAt < 10_000) await pause(10);
      expect(seen.has(task!.id), 'delivered while the finish waits (the safety re-check is 60 s)').to.equal(
        true,
      );
      await blocker.query('COMMIT');
      expect(await finishing).to.have.property('status', 'ok');
    } finally {
      blocker.release();
    }
  });

  it('tells a subscriber that fell behind the kept positions, also when this process recorded the changes', async () => {
    const repository = open({ changesRetained: 5, safetyRecheckInterval: 200 });
    await repository.migrate();
    await repository.createMany(newTasks(1, 0));
    const { promise: held, resolve: release } = deferred();
    const positions: ChangePosition[] = [];
    const resyncs: ChangeFeedResync[] = [];
    await repository.subscribe({
      after: 0,
      onChange: async (change) => {
        positions.push(change.position);
        if (change.position === 1) await held;
      },
      onResync: (resync) => void resyncs.push(resync),
    });
    while (positions.length < 1) await pause(10);
    await repository.createMany(newTasks(20, 1));
    release();
    while (positions.at(-1) !== 21) await pause(10);

    expect(resyncs).to.deep.equal([{ lastDelivered: 1, resumedAfter: 16 }]);
    expect(positions).to.deep.equal([1, 17, 18, 19, 20, 21]);
  });

  it('delivers every change of its own statement beyond the retention to a subscriber that keeps up', async () => {
    // As the in-memory store does for a subscriber that answers synchronously.
    const repository = open({ changesRetained: 10, safetyRecheckInterval: 200 });
    await repository.migrate();
    await repository.createMany(newTasks(20, 0));
    const delivered: string[] = [];
    const halted: unknown[] = [];
    await repository.subscribe({
      onChange: (change) => void delivered.push(change.type),
      onHalt: (error) => void halted.push(error),
    });
    await repository.cancel({ processInstanceId: 'p' });
    const deadline = Date.now() + 3000;
    while (delivered.length < 20 && halted.length === 0 && Date.now() < deadline) await pause(10);

    expect(halted).to.deep.equal([]);
    expect(delivered).to.deep.equal(Array.from({ length: 20 }, () => 'cancelled'));
  });

  it('halts a subscriber with onHalt whose onResync throws, as a failing onChange does', async () => {
    const repository = open({ changesRetained: 5, safetyRecheckInterval: 200 });
    const other = open({ changesRetained: 5 });
    await repository.migrate();
    await repository.createMany(newTasks(1, 0));
    const { promise: held, resolve: release } = deferred();
    const halted: { error: unknown; change: ExternalTaskChange | undefined }[] = [];
    const delivered: ChangePosition[] = [];
    await repository.subscribe({
      after: 0,
      onChange: async (change) => {
        delivered.push(change.position);
        if (change.position === 1) await held;
      },
      onResync: () => {
        throw new Error('cannot resynchronise');
      },
      onHalt: (error, change) => void halted.push({ error, change }),
    });
    while (delivered.length < 1) await pause(10);
    // Recorded by another process, pruned by the time the subscriber reads them.
    await other.createMany(newTasks(20, 1));
    release();
    const deadline = Date.now() + 3000;
    while (halted.length === 0 && delivered.at(-1) !== 21 && Date.now() < deadline) await pause(10);

    expect(halted.map(({ error }) => (error as Error).message)).to.deep.equal(['cannot resynchronise']);
    expect(delivered).to.deep.equal([1]);
  });
});
