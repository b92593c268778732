import { expect } from 'chai';
import type pg from 'pg';
import sinon from 'sinon';
import type { ExternalTask } from '../../lib/model/index.js';
import type { Driver } from '../../lib/postgres/driver/driver.js';
import { PostgresExternalTaskRepository, type PostgresConnection } from '../../lib/postgres/index.js';
import { dropSchema, freshSchema, quietLogger, serverUrl, sharedPglite, useServerAdmin } from './support.js';

const TOPIC = 'burst';
const CALLERS = 16;
const TASKS_EACH = 16;
/** The claim statement's text contains this (and no other statement's does). */
const CLAIM = 'FOR UPDATE OF t SKIP LOCKED';
/** The finish statement's text contains this. */
const FINISH = "'finished' AS type";

type QuerySpy = sinon.SinonSpy<[text: string, params?: readonly unknown[]], Promise<unknown[]>>;

/** The statements sent whose text contains `marker`. */
function sent(statements: QuerySpy, marker: string) {
  return statements.getCalls().filter((call) => call.args[0].includes(marker));
}

/** How many of the statements sent whose text contains `marker` have not settled yet. */
function unsettled(statements: QuerySpy, marker: string, settled: WeakSet<object>): number {
  return sent(statements, marker).filter((call) => {
    const answer = call.returnValue;
    const done = (): void => void settled.add(answer);
    answer.then(done, done);
    return !settled.has(answer);
  }).length;
}

/**
 * Waits until the statements of `applicationName` with `marker` in their text that wait for a lock are
 * as many as `running()` says, and some: until every such statement that has not settled waits.
 */
async function waitersOnLocks(
  database: pg.Pool,
  applicationName: string,
  marker: string,
  running: () => number,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { rows } = await database.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE application_name = $1 AND wait_event_type = 'Lock' AND strpos(query, $2) > 0`,
      [applicationName, marker],
    );
    if (rows[0]!.n > 0 && rows[0]!.n === running()) return;
    if (Date.now() > deadline) expect.fail(`${applicationName}: ${rows[0]!.n} waiting, ${running()} running`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * 16 callers claim 16 tasks each at once, then finish them all at once: answers the tasks each statement
 * of the burst carried (a claim's `$4`, a finish's requests), and checks every task went once.
 */
async function burst(
  connection: PostgresConnection,
  database: { query(text: string): Promise<unknown> },
): Promise<{ claims: number[]; finishes: number[] }> {
  const schema = freshSchema();
  const repository = new PostgresExternalTaskRepository(connection, { schema, logger: quietLogger() });
  try {
    await repository.migrate();
    const created = await repository.createMany(
      Array.from({ length: CALLERS * TASKS_EACH }, (_, i) => ({
        topic: TOPIC,
        flowNodeInstanceId: `fni-${i}`,
        correlationId: `c-${i}`,
        processInstanceId: `pi-${i}`,
      })),
    );
    const statements = sinon.spy((repository as unknown as { driver: Driver }).driver, 'query') as QuerySpy;
    const claimed = await Promise.all(
      Array.from({ length: CALLERS }, (_, caller) =>
        repository.claim({
          workerId: `worker-${caller}`,
          maxTasks: TASKS_EACH,
          topics: [{ topicName: TOPIC, lockDuration: 60_000 }],
        }),
      ),
    );
    const finished = await Promise.all(
      claimed.flatMap((tasks: ExternalTask[], caller) =>
        tasks.map((task) =>
          repository.complete({
            externalTaskId: task.id,
            workerId: `worker-${caller}`,
            outcome: { state: 'finished' },
          }),
        ),
      ),
    );
    statements.restore();
    expect(new Set(claimed.flat().map((task) => task.id))).to.deep.equal(
      new Set(created.map((task) => task.id)),
    );
    expect(finished.filter((result) => result.status === 'ok')).to.have.length(created.length);
    return {
      claims: sent(statements, CLAIM).map((call) => call.args[1]![3] as number),
      finishes: sent(statements, FINISH).map(
        (call) => (JSON.parse(call.args[1]![1] as string) as unknown[]).length,
      ),
    };
  } finally {
    await repository.close();
    await dropSchema(database, schema);
  }
}

describe('PostgresExternalTaskRepository statement sizes', function () {
  this.timeout(60_000);

  describe('on the server', () => {
    const admin = useServerAdmin();

    it('carries a burst of 256 claims and finishes in statements of at most 128 tasks, so that callers split into groups', async () => {
      const { claims, finishes } = await burst({ connectionString: serverUrl }, admin.pool);

      expect(claims).to.deep.equal([128, 128]);
      expect(finishes.reduce((sum, size) => sum + size, 0)).to.equal(256);
      expect(Math.max(...finishes)).to.equal(128);
    });

    it('hands out every available task of a burst split into several claims, though each claim locks more candidates than it takes', async () => {
      // A claim of 128 for two topics locks the first 128 of each and takes the best 128 of those: a
      // second claim beside it would skip the 128 it leaves, and find nothing, though they are free.
      const schema = freshSchema();
      const repository = new PostgresExternalTaskRepository(
        { connectionString: serverUrl },
        { schema, logger: quietLogger(), applicationName: 'et-split-burst' },
      );
      const holder = await admin.pool.connect();
      try {
        await repository.migrate();
        const topics = ['left', 'right'];
        const created = await repository.createMany(
          Array.from({ length: CALLERS * TASKS_EACH }, (_, i) => ({
            topic: topics[i % 2]!,
            flowNodeInstanceId: `fni-${i}`,
            correlationId: `c-${i}`,
            processInstanceId: `pi-${i}`,
          })),
        );
        const statements = sinon.spy(
          (repository as unknown as { driver: Driver }).driver,
          'query',
        ) as QuerySpy;
        // The feed's row, which each claim locks last: the claims sent wait there with their tasks locked.
        await holder.query('BEGIN');
        await holder.query(`SELECT 1 FROM "${schema}".feed FOR UPDATE`);
        const claimed = Promise.all(
          Array.from({ length: CALLERS }, (_, caller) =>
            repository.claim({
              workerId: `worker-${caller}`,
              maxTasks: TASKS_EACH,
              topics: topics.map((topicName) => ({ topicName, lockDuration: 60_000 })),
            }),
          ),
        );
        const settled = new WeakSet<object>();
        await waitersOnLocks(admin.pool, 'et-split-burst', CLAIM, () =>
          unsettled(statements, CLAIM, settled),
        );
        await holder.query('ROLLBACK');
        const tasks = (await claimed).flat();
        statements.restore();

        expect(tasks).to.have.length(created.length);
        expect(new Set(tasks.map((task) => task.id)).size).to.equal(created.length);
      } finally {
        await holder.query('ROLLBACK').catch(() => undefined);
        holder.release();
        await repository.close();
        await dropSchema(admin.pool, schema);
      }
    });
  });

  describe('on PGlite', () => {
    it('carries a burst of 256 claims in one statement, as nothing runs beside it', async () => {
      const pglite = await sharedPglite();
      const { claims, finishes } = await burst({ pglite }, pglite);

      expect(claims).to.deep.equal([256]);
      expect(finishes).to.deep.equal([256]);
    });
  });
});
