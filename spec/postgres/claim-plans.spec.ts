import { expect } from 'chai';
import { PostgresExternalTaskRepository } from '../../lib/postgres/index.js';
import { claimTasks, sqlNames } from '../../lib/postgres/sql/index.js';
import { dropSchema, freshSchema, quietLogger, serverUrl, useServerAdmin } from './support.js';

const READY = 20_000;

/**
 * The claim's plan as the store's connections run it (generic, no JIT; see `sessionSettings` in
 * lib/postgres/driver/pg-driver.ts): `EXPLAIN` of the prepared statement in a transaction rolled back.
 */
async function genericPlan(
  admin: { query(text: string): Promise<{ rows: Record<string, string>[] }> },
  text: string,
  execute: string,
): Promise<string> {
  await admin.query('BEGIN');
  try {
    await admin.query('SET LOCAL plan_cache_mode = force_generic_plan');
    await admin.query('SET LOCAL jit = off');
    await admin.query(`PREPARE planned AS ${text}`);
    const { rows } = await admin.query(`EXPLAIN (COSTS OFF) EXECUTE planned${execute}`);
    return rows.map((row) => row['QUERY PLAN']).join('\n');
  } finally {
    await admin.query('ROLLBACK');
    await admin.query('DEALLOCATE ALL');
  }
}

describe('PostgresExternalTaskRepository claim plans', function () {
  this.timeout(60_000);
  const admin = useServerAdmin();
  const schema = freshSchema();

  describe('on a backlog of 20,000 ready tasks with fresh statistics', () => {
    before(async () => {
      const repository = new PostgresExternalTaskRepository(
        { connectionString: serverUrl },
        { schema, logger: quietLogger() },
      );
      await repository.migrate();
      await repository.close();
      // A backlog of ready tasks in one topic, with statistics that know it (as autovacuum's would).
      await admin.pool.query(
        `INSERT INTO "${schema}".tasks (topic, flow_node_instance_id, correlation_id, process_instance_id,
         payload, priority, created_at)
       SELECT 'backlog', 'f' || i, 'c' || i, 'p' || i, '{}', i % 3, now() FROM generate_series(1, ${READY}) i`,
      );
      await admin.pool.query(`VACUUM ANALYZE "${schema}".tasks`);
    });

    after(async () => {
      await dropSchema(admin.pool, schema);
    });

    it('reads a backlog of ready tasks from tasks_ready and updates the dealt ones by key, never the whole table', async () => {
      const client = await admin.pool.connect();
      try {
        const workers = Array.from({ length: 16 }, (_, i) => `'worker-${i}'`);
        const plan = await genericPlan(
          client,
          claimTasks(sqlNames(schema), 100_000),
          `(NULL, ARRAY['backlog'], ARRAY[30000], 16, ARRAY[${workers.join(', ')}], ` +
            `ARRAY[${workers.map(() => 1).join(', ')}], NULL, NULL)`,
        );

        expect(plan).to.match(/Index Scan using tasks_ready on tasks/);
        expect(plan).not.to.match(/Seq Scan on tasks/);
      } finally {
        client.release();
      }
    });
  });
});
