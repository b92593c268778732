/**
 * Prints the plans of the hot statements on a filled table, for docs/postgres-plans.md. Not a test:
 * run `npx tsx spec/postgres/explain-plans.ts` against the server (EXTERNAL_TASK_PG_URL). It fills a
 * fresh schema with 1,000,000 final tasks and 100,000 tasks locked for an hour AHEAD of 1,000 available
 * ones (higher priority), plus 100 with an expired lock, then EXPLAINs (ANALYZE, BUFFERS) each statement
 * inside a transaction that is rolled back, and drops the schema.
 */
import type pg from 'pg';
import { claimTasks, heldTaskWrites, msUntilNextAvailable, sqlNames } from '../../lib/postgres/sql/index.js';
import { PostgresExternalTaskRepository } from '../../lib/postgres/index.js';
import { adminPool, dropSchema, fileTaskPlaces, freshSchema, serverUrl } from './support.js';

const schema = freshSchema();
const names = sqlNames(schema);
const admin = adminPool();
const repository = new PostgresExternalTaskRepository({ connectionString: serverUrl }, { schema });

/** A parameter as an SQL literal for EXECUTE (which takes no parameters of the protocol). */
function literal(client: pg.PoolClient, value: unknown): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return `ARRAY[${value.map((item) => literal(client, item)).join(', ')}]`;
  if (typeof value === 'string') return client.escapeLiteral(value);
  throw new Error(`No literal for ${typeof value}.`);
}

async function explain(title: string, text: string, params: unknown[]): Promise<void> {
  const client = await admin.connect();
  try {
    await client.query('BEGIN');
    // The plan the store's connections run: generic, without JIT (see `sessionSettings` in
    // lib/postgres/driver/pg-driver.ts).
    await client.query('SET LOCAL plan_cache_mode = force_generic_plan');
    await client.query('SET LOCAL jit = off');
    await client.query(`PREPARE explained AS ${text}`);
    const args = params.map((param) => literal(client, param)).join(', ');
    const execute = `EXECUTE explained${args ? `(${args})` : ''}`;
    // A first run, undone, so that the plan shown is not the one that also loads the catalog.
    await client.query('SAVEPOINT warm');
    await client.query(execute);
    await client.query('ROLLBACK TO SAVEPOINT warm');
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING ON) ${execute}`,
    );
    console.log(`### ${title}\n\n\`\`\`\n${rows.map((row) => row['QUERY PLAN']).join('\n')}\n\`\`\`\n`);
  } finally {
    await client.query('ROLLBACK');
    await client.query('DEALLOCATE ALL');
    client.release();
  }
}

async function fill(): Promise<void> {
  const s = names.schema;
  const columns = `topic, flow_node_instance_id, correlation_id, process_instance_id, payload, priority, created_at`;
  const values = (topic: string, priority: string) =>
    `'${topic}', 'f' || i, 'c' || i, 'p' || i, '{"n": 1}'::json, ${priority}, now()`;
  await admin.query(
    `INSERT INTO ${s}.tasks (${columns}, state, finished_at, worker_id, result)
     SELECT ${values('work', '(i % 10)')}, 'finished', now(), 'w', '1'::json FROM generate_series(1, 1000000) i`,
  );
  await admin.query(
    `INSERT INTO ${s}.tasks (${columns}, worker_id, lock_expires_at, attempts)
     SELECT ${values('work', '100')}, 'w', now() + interval '1 hour', 1 FROM generate_series(1, 100000) i`,
  );
  await admin.query(
    `INSERT INTO ${s}.tasks (${columns}, worker_id, lock_expires_at, attempts)
     SELECT ${values('work', '0')}, 'w', now() - interval '1 minute', 1 FROM generate_series(1, 100) i`,
  );
  await admin.query(
    `INSERT INTO ${s}.tasks (${columns}) SELECT ${values('work', '(i % 3)')} FROM generate_series(1, 1000) i`,
  );
  // Autovacuum is off on the development machine: collect statistics and the visibility map by hand.
  await fileTaskPlaces(admin, names.name);
}

try {
  await repository.migrate();
  await fill();
  const claim = claimTasks(names, 100_000);
  // A claim alone is a batch of one request: $5 its worker, $6 its maxTasks.
  for (const maxTasks of [1, 16]) {
    await explain(`claim, maxTasks ${maxTasks}, one topic`, claim, [
      null,
      ['work'],
      [30_000],
      maxTasks,
      ['explainer'],
      [maxTasks],
      null,
      null,
    ]);
  }
  await explain('claim, maxTasks 16, two topics (one empty)', claim, [
    null,
    ['work', 'other'],
    [30_000, 30_000],
    16,
    ['explainer'],
    [16],
    null,
    null,
  ]);
  await explain('claim shared by 16 requests of maxTasks 1, one topic', claim, [
    null,
    ['work'],
    [30_000],
    16,
    Array.from({ length: 16 }, (_, i) => `explainer-${i}`),
    Array.from({ length: 16 }, () => 1),
    null,
    null,
  ]);
  await explain('msUntilNextAvailable', msUntilNextAvailable(names), [null, ['work'], null, null]);
  const { rows } = await admin.query<{ id: string }>(
    `SELECT id FROM ${names.schema}.tasks WHERE state = 'pending' AND worker_id = 'w' LIMIT 16`,
  );
  /** The first `count` held tasks as requests of a shared finish statement. */
  const finishes = (count: number): string =>
    JSON.stringify(
      rows.slice(0, count).map((row, n) => ({
        n,
        id: row.id,
        workerId: 'w',
        tenantIds: null,
        processModelIds: null,
        result: '"done"',
      })),
    );
  const { finish } = heldTaskWrites(names, 100_000);
  await explain('complete (finish) of a held task', finish, [null, finishes(1)]);
  await explain('complete (finish) of 16 held tasks in one shared statement', finish, [null, finishes(16)]);
} finally {
  await repository.close();
  await dropSchema(admin, schema);
  await admin.end();
}
