/**
 * Where the fixed cost of a claim goes: the server CPU (the backend's own, from /proc) of a claim of one
 * task, for the store's claim statement and for variants with parts taken out, each on a connection of
 * its own, taking turns statement by statement (so that a loaded machine weighs on each alike), 2,000
 * claims each from one backlog, generic plans as the store runs them. The variants:
 *
 * - `store`: the claim as the store sends it (docs/sql/claim.sql);
 * - `no feed`: without recording the changes (`record_changes`: the feed's row, the change rows, the
 *   notification), the records answered in a column instead;
 * - `no feed, no due`: also without the branch of the tasks whose lock expired or whose retry came due;
 * - `bare + record`: a claim of the first ready task on the same tables, with its record (no dealing to a
 *   batch, no scope, no hint);
 * - `bare`: the same without the record.
 *
 * Run with `npx tsx bench/claim-parts.ts [claims]` on a machine with the server local (reads
 * `EXTERNAL_TASK_PG_URL`). See docs/benchmarks.md.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { claimTasks, sqlNames } from '../lib/postgres/sql/index.js';
import { migratedSchema, openStore, serverUrl } from './support.js';

const CLAIMS = Number(process.argv[2] ?? 2000);

function backendCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function variants(schema: string): Record<string, string> {
  const s = `"${schema}"`;
  const store = claimTasks(sqlNames(schema), 100_000);
  const noFeed = store.replace(
    /CASE WHEN row_number\(\) OVER \(\) = 1 THEN \(SELECT "[a-z_0-9]+"\.record_changes\([\s\S]*?\) AS change\) END/,
    '(SELECT json_agg(task) FROM recorded)',
  );
  const noDue = noFeed.replace('SELECT * FROM ready UNION ALL SELECT * FROM due', 'SELECT * FROM ready');
  const bare = `WITH chosen AS (
  SELECT id FROM ${s}.pending WHERE topic = ($2::text[])[1] AND available_at IS NULL
  ORDER BY priority DESC, sequence LIMIT $4 FOR UPDATE SKIP LOCKED
), scheduled AS (
  UPDATE ${s}.pending p SET worker_id = ($5::text[])[1], available_at = now() + interval '5 minutes'
  FROM chosen WHERE p.id = chosen.id
)
UPDATE ${s}.tasks t SET worker_id = ($5::text[])[1], lock_expires_at = now() + interval '5 minutes', attempts = t.attempts + 1
FROM chosen WHERE t.id = chosen.id
  AND $1::bigint IS NULL AND $3::bigint[] IS NOT NULL AND $6::int[] IS NOT NULL AND $7::text[] IS NULL AND $8::text[] IS NULL
RETURNING t.id`;
  const found = { 'no feed': noFeed !== store, 'no feed, no due': noDue !== noFeed };
  for (const [name, changed] of Object.entries(found)) {
    if (!changed) throw new Error(`the variant "${name}" no longer matches the claim statement`);
  }
  return {
    store,
    'no feed': noFeed,
    'no feed, no due': noDue,
    'bare + record': bare.replace('RETURNING t.id', `RETURNING t.id, ${s}.task_record(t) AS record`),
    bare,
  };
}

async function main(): Promise<void> {
  const connection = { connectionString: serverUrl };
  const schema = await migratedSchema(connection);
  const statements = variants(schema);
  const names = Object.keys(statements);
  const store = await openStore(connection, schema);
  const clients: pg.Client[] = [];
  try {
    for (let made = 0; made < CLAIMS * names.length; made += 1000) {
      await store.createMany(
        Array.from({ length: 1000 }, (_, i) => ({
          topic: 'claim-parts',
          flowNodeInstanceId: `f-${made + i}`,
          correlationId: 'c',
          processInstanceId: `p-${made + i}`,
          payload: { n: made + i },
        })),
      );
    }
    while (clients.length < names.length) {
      const client = new pg.Client(connection);
      await client.connect();
      await client.query('SET plan_cache_mode = force_generic_plan');
      await client.query('SET jit = off');
      clients.push(client);
    }
    const pids = await Promise.all(
      clients.map(
        async (client) =>
          (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid,
      ),
    );
    const before = pids.map(backendCpuSeconds);
    for (let claim = 0; claim < CLAIMS; claim++) {
      for (const [i, name] of names.entries()) {
        const { rows } = await clients[i]!.query({
          name: 'claim',
          text: statements[name]!,
          values: [null, ['claim-parts'], [300_000], 1, [`worker-${i}`], [1], null, null],
        });
        if (rows.length !== 1) throw new Error(`${name} claimed ${rows.length} tasks`);
      }
    }
    console.log(`${CLAIMS} claims of one task each, server CPU µs per claim (the backend's own):`);
    for (const [i, name] of names.entries()) {
      console.log(`- ${name}: ${(((backendCpuSeconds(pids[i]!) - before[i]!) * 1e6) / CLAIMS).toFixed(0)}`);
    }
  } finally {
    for (const client of clients) await client.end();
    await store.close();
    const admin = new pg.Client(connection);
    await admin.connect();
    await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
    await admin.end();
  }
}

await main();
