import { expect } from 'chai';
import pg from 'pg';
import type { ExternalTask, NewExternalTask } from '../../lib/model/index.js';
import { sqlNames, storeStatements } from '../../lib/postgres/sql/index.js';
import { SharedStore } from './shared-store.js';
import { requireServer, serverUrl } from './support.js';

/**
 * Statements that lock several tasks take their row locks in one order (the tasks' ids), so that two of
 * them that share tasks wait for each other instead of deadlocking. Each test stages the interleaving
 * that would deadlock with another order: a third transaction holds a task while the two statements
 * queue behind it, then lets go.
 */
describe('PostgreSQL store lock order', function () {
  this.timeout(60_000);
  let store: SharedStore;
  const clients: pg.Client[] = [];

  before(async function () {
    await requireServer(this);
  });

  beforeEach(() => {
    store = new SharedStore();
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) await client.end();
    await store?.close();
  });

  /** A connection of its own, named `applicationName` in `pg_stat_activity`. */
  async function connection(applicationName: string): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: serverUrl, application_name: applicationName });
    await client.connect();
    clients.push(client);
    return client;
  }

  /** Holds the row of `task` in a transaction until `release()`. */
  async function hold(task: ExternalTask): Promise<{ release(): Promise<void> }> {
    const holder = await connection('et-holder');
    await holder.query('BEGIN');
    await holder.query(`SELECT id FROM "${store.schema}".tasks WHERE id = $1 FOR UPDATE`, [task.id]);
    return { release: async () => void (await holder.query('COMMIT')) };
  }

  /** Waits until a backend of `applicationName` waits for a lock. */
  async function blocked(applicationName: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { rows } = await store.admin.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
        [applicationName],
      );
      if (rows[0]!.n > 0) return;
      if (Date.now() > deadline) expect.fail(`${applicationName} never waited for a lock`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Two tasks of one process instance, created in an order where the first has the greater id. */
  async function pairCreatedHighIdFirst(
    processInstanceId: string,
    keyed: boolean,
  ): Promise<{ tasks: [ExternalTask, ExternalTask]; inputs: NewExternalTask[] }> {
    const creator = store.open();
    for (let attempt = 0; ; attempt++) {
      const inputs = ['high', 'low'].map((which) => ({
        ...store.newTask('t'),
        processInstanceId: `${processInstanceId}-${attempt}`,
        ...(keyed && { idempotencyKey: `${processInstanceId}-${attempt}-${which}` }),
      }));
      const [first, second] = await creator.createMany(inputs);
      if (first!.id > second!.id) return { tasks: [first!, second!], inputs };
    }
  }

  it('an idempotent repeat of createMany and a cancel of the same tasks never deadlock', async () => {
    const first = store.open();
    await first.migrate();
    const { tasks, inputs } = await pairCreatedHighIdFirst('repeat', true);
    const [high] = tasks;
    const creator = store.open('et-creator');
    const canceller = store.open('et-canceller');

    const holder = await hold(high);
    // The repeat asks for the task of the greater id first; the cancel locks the smaller id first.
    const repeat = creator.createMany(inputs);
    await blocked('et-creator');
    const cancel = canceller.cancel({ processInstanceId: high.processInstanceId });
    await blocked('et-canceller');
    await holder.release();

    const [repeated, cancelled] = await Promise.allSettled([repeat, cancel]);
    expect(repeated.status, String((repeated as PromiseRejectedResult).reason)).to.equal('fulfilled');
    expect(cancelled.status, String((cancelled as PromiseRejectedResult).reason)).to.equal('fulfilled');
    expect((repeated as PromiseFulfilledResult<ExternalTask[]>).value.map((task) => task.id)).to.deep.equal(
      tasks.map((task) => task.id),
    );
    expect((cancelled as PromiseFulfilledResult<number>).value).to.equal(2);
  });

  it('deleteFinalTasks and a shared write of the same final tasks never deadlock', async () => {
    const first = store.open();
    await first.migrate();
    const { tasks } = await pairCreatedHighIdFirst('final', false);
    const [high, low] = tasks;
    for (const task of tasks) await first.cancel({ externalTaskId: task.id });
    const finish = storeStatements(sqlNames(store.schema), 1000).held.finish;
    const writer = await connection('et-writer');
    const deleter = store.open('et-deleter');

    const holder = await hold(low);
    // Two late reports share a statement, which locks the smaller id first; the deletion finds the tasks
    // in the order they were stored, the greater id first.
    const requests = [low, high].map((task, n) => ({
      n,
      id: task.id,
      workerId: 'w',
      tenantIds: null,
      processModelIds: null,
      result: null,
    }));
    const write = writer.query(finish, [null, JSON.stringify(requests)]);
    await blocked('et-writer');
    const deletion = deleter.deleteFinalTasks({ processInstanceId: high.processInstanceId });
    await blocked('et-deleter');
    await holder.release();

    const [written, deleted] = await Promise.allSettled([write, deletion]);
    expect(written.status, String((written as PromiseRejectedResult).reason)).to.equal('fulfilled');
    expect(deleted.status, String((deleted as PromiseRejectedResult).reason)).to.equal('fulfilled');
    expect((deleted as PromiseFulfilledResult<number>).value).to.equal(2);
  });

  it('two createMany of the same new keys in opposite orders never deadlock', async () => {
    const first = store.open();
    const second = store.open();
    await first.migrate();
    for (let round = 0; round < 10; round++) {
      const inputs = Array.from({ length: 200 }, (_, i) => ({
        ...store.newTask('t'),
        idempotencyKey: `round-${round}-${i}`,
      }));
      const [forward, backward] = await Promise.allSettled([
        first.createMany(inputs),
        second.createMany([...inputs].reverse()),
      ]);
      expect(forward.status, String((forward as PromiseRejectedResult).reason)).to.equal('fulfilled');
      expect(backward.status, String((backward as PromiseRejectedResult).reason)).to.equal('fulfilled');
      const ids = (forward as PromiseFulfilledResult<ExternalTask[]>).value.map((task) => task.id);
      const reversed = (backward as PromiseFulfilledResult<ExternalTask[]>).value.map((task) => task.id);
      expect(reversed).to.deep.equal([...ids].reverse());
    }
  });
});
