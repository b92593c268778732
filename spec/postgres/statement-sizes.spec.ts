import { expect } from 'chai';
import sinon from 'sinon';
import type { ExternalTask } from '../../lib/model/index.js';
import type { Driver } from '../../lib/postgres/driver/driver.js';
import { PostgresExternalTaskRepository, type PostgresConnection } from '../../lib/postgres/index.js';
import { dropSchema, freshSchema, quietLogger, serverUrl, sharedPglite, useServerAdmin } from './support.js';

const TOPIC = 'burst';
const CALLERS = 16;
const TASKS_EACH = 16;
/** The claim statement's text contains this (and no other statement's does). */
const CLAIM = 'FOR UPDATE SKIP LOCKED';
/** The finish statement's text contains this. */
const FINISH = "'finished' AS type";

type QuerySpy = sinon.SinonSpy<[text: string, params?: readonly unknown[]], Promise<unknown[]>>;

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
    const sent = (marker: string) => statements.getCalls().filter((call) => call.args[0].includes(marker));
    return {
      claims: sent(CLAIM).map((call) => call.args[1]![3] as number),
      finishes: sent(FINISH).map((call) => (JSON.parse(call.args[1]![1] as string) as unknown[]).length),
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
