/**
 * The PostgreSQL store's task lifecycle (create → fetch-and-lock → finish) through the API, with 16
 * handlers in flight, on the local server and on PGlite, on an empty table and beside 1,000,000 final
 * rows; the wake-up latency of a long poll in another process; and, in the same run, the bare SQL floor
 * (one claim statement and one finish statement per round, no API) that the figures are compared with;
 * and graphile-worker on the server's empty table, the reference the throughput target is stated against
 * (bench/graphile-worker-reference.ts).
 *
 * Run with `npm run bench:postgres` (which is `tsx bench/postgres-lifecycle.ts`). Reads
 * `EXTERNAL_TASK_PG_URL` (default `postgres://postgres@127.0.0.1:5432/test`). See docs/benchmarks.md.
 */
import { execSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { PostgresConnection } from '../lib/postgres/index.js';
import { GRAPHILE_WORKER_CONFIGURATIONS, graphileWorkerRun } from './graphile-worker-reference.js';
import { floorRun } from './sql-floor.js';
import { lifecycleRun, repositoryRun, TOPIC, workerRun } from './store-lifecycle.js';
import {
  log,
  median,
  migratedSchema,
  percentile,
  seconds,
  serverUrl,
  type PhaseCpu,
  type Throughput,
} from './support.js';
import { wakeLatency } from './wake-latency.js';

/** `--quick`: one small run of everything, to try the benchmark out (its figures are not the report's). */
const quick = process.argv.includes('--quick');
const RUNS = quick ? 1 : 3;
/** Tasks per measured run: enough for a few seconds at the expected rates. */
const TASKS = quick ? { server: 3000, pglite: 1000 } : { server: 12_000, pglite: 4_000 };
const FINAL_ROWS = quick ? 100_000 : 1_000_000;
const WAKE_SAMPLES = quick ? 30 : 200;

/** Runs an SQL text on either database. */
interface Database {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** Fills the schema's task table with final rows of the topic (filed in `ended`), then VACUUM ANALYZE (autovacuum may be off). */
async function fillFinal(database: Database, schema: string): Promise<number> {
  const start = process.hrtime.bigint();
  await database.query(`
    INSERT INTO "${schema}".tasks (topic, flow_node_instance_id, correlation_id, process_instance_id,
      payload, priority, state, created_at, finished_at, attempts)
    SELECT '${TOPIC}', 'old-fni-' || g, 'old-c-' || g, 'old-pi-' || g, 'null', g % 10, 'finished',
      now() - interval '1 day', now() - interval '1 day', 1
    FROM generate_series(1, ${FINAL_ROWS}) g`);
  await database.query(`
    INSERT INTO "${schema}".ended (id, sequence, state, finished_at)
    SELECT id, sequence, state, finished_at FROM "${schema}".tasks WHERE state = 'finished'`);
  await vacuum(database, schema);
  return seconds(start);
}

/** VACUUM ANALYZE of the schema's tables that runs write: the tasks and their places, the feed's rows and its ends. */
async function vacuum(database: Database, schema: string): Promise<void> {
  for (const table of ['tasks', 'pending', 'ended', 'changes', 'feed']) {
    await database.query(`VACUUM ANALYZE "${schema}".${table}`);
  }
}

interface Row {
  readonly driver: 'server' | 'PGlite';
  readonly table: 'empty' | '1M final';
  readonly what: string;
  readonly runs: number[];
  /** The CPU µs per task of each run. */
  readonly cpu: PhaseCpu[];
  readonly created?: number[];
  readonly batch?: number;
  readonly floor?: number;
}

const FLOORS = [
  { loops: 16, batch: 1 },
  { loops: 1, batch: 16 },
  { loops: 2, batch: 16 },
] as const;

/**
 * One configuration of a table: what its row says, and one run of it (its tasks/s, and the creation's
 * rate where the run creates through the store).
 */
interface Measurement {
  readonly row: Omit<Row, 'runs' | 'cpu' | 'created' | 'floor'> & { readonly floorOf?: string };
  readonly run: () => Promise<Throughput & { createdPerSecond?: number }>;
}

const floorLabel = (loops: number, batch: number): string =>
  `floor: ${loops} loop${loops > 1 ? 's' : ''} × ${batch}`;

/** The floor, the API lifecycle and the repository alone on one table (a fresh schema each run when empty). */
function tableMeasurements(
  driver: Row['driver'],
  table: Row['table'],
  connection: PostgresConnection,
  database: Database,
  runFloor: (text: string, params: unknown[]) => Promise<{ rows: unknown[] }>,
  count: number,
  filled: string | undefined,
): Measurement[] {
  /**
   * Runs `body` in a schema of its own, dropped afterwards when fresh; or in the filled one, kept, and
   * vacuumed first (untimed): autovacuum is off here, and without it every run would also wade through
   * the dead row versions and index entries of the runs before it (a fresh schema has none).
   */
  const inSchema = async <T>(body: (schema: string) => Promise<T>): Promise<T> => {
    if (filled) await vacuum(database, filled);
    const schema = filled ?? (await migratedSchema(connection));
    try {
      return await body(schema);
    } finally {
      if (!filled) await database.query(`DROP SCHEMA "${schema}" CASCADE`);
    }
  };
  const measurements: Measurement[] = FLOORS.map(({ loops, batch }) => ({
    row: { driver, table, what: floorLabel(loops, batch) },
    run: () => inSchema((schema) => floorRun(runFloor, schema, TOPIC, count, loops, batch)),
  }));
  /** The floor a batch size is compared with: 16 loops × 1 for batches of 1, 1 loop × 16 for 16. */
  const floorOf = (batch: number): string => (batch === 1 ? floorLabel(16, 1) : floorLabel(1, 16));
  // The durable default, and (on a pool the store opens) synchronousCommit: false.
  const variants = [true, ...(driver === 'server' && !filled ? [false] : [])];
  for (const synchronousCommit of variants) {
    for (const batch of [1, 16]) {
      measurements.push({
        row: {
          driver,
          table,
          what: `API: 16 handlers, batches of ${batch}${synchronousCommit ? '' : ', synchronousCommit off'}`,
          batch,
          floorOf: floorOf(batch),
        },
        run: async () => {
          const { createdPerSecond, ...measured } = await inSchema((schema) =>
            lifecycleRun(connection, schema, count, batch, synchronousCommit),
          );
          // The creation's rate is reported once per batch size: with the durable default.
          return synchronousCommit ? { ...measured, createdPerSecond } : measured;
        },
      });
    }
  }
  for (const batch of [1, 16]) {
    measurements.push({
      row: {
        driver,
        table,
        what: `workers: 16 ExternalTaskWorkers, maxTasks and concurrency ${batch}`,
        floorOf: floorOf(batch),
      },
      run: () =>
        inSchema((schema) =>
          workerRun(connection, schema, count, {
            workers: 16,
            options: { concurrency: batch, maxTasks: batch },
          }),
        ),
    });
  }
  for (const batch of [1, 16]) {
    measurements.push({
      row: {
        driver,
        table,
        what: `repository only: 16 handlers, batches of ${batch}`,
        floorOf: floorOf(batch),
      },
      run: () => inSchema((schema) => repositoryRun(connection, schema, count, batch)),
    });
  }
  return measurements;
}

/**
 * graphile-worker's configurations on the server, each run in a fresh schema of its own. The batched
 * ones run 4 times as many jobs: at their rates `count` jobs would take a fraction of a second, which the
 * runner's start and stop would weigh on.
 */
function graphileWorkerMeasurements(count: number): Measurement[] {
  return (['oneByOne', 'batchedBy16', 'batched'] as const).map((configuration) => ({
    row: { driver: 'server', table: 'empty', what: GRAPHILE_WORKER_CONFIGURATIONS[configuration].label },
    run: () =>
      graphileWorkerRun({
        connectionString: serverUrl,
        count: configuration === 'oneByOne' ? count : 4 * count,
        configuration,
      }),
  }));
}

/**
 * Runs the measurements of one table RUNS times, taking turns (first run of each, then the second of
 * each, …), so that a slower or faster phase of the machine falls on every configuration alike rather
 * than on the runs of one: the ratios between rows are what the report is about.
 */
async function interleaved(measurements: readonly Measurement[]): Promise<Row[]> {
  const runs = measurements.map(() => [] as number[]);
  const cpu = measurements.map(() => [] as PhaseCpu[]);
  const created = measurements.map(() => [] as number[]);
  for (let i = 0; i < RUNS; i++) {
    for (const [m, measurement] of measurements.entries()) {
      const { perSecond, cpuPerTask, createdPerSecond } = await measurement.run();
      runs[m]!.push(perSecond);
      cpu[m]!.push(cpuPerTask);
      if (createdPerSecond !== undefined) created[m]!.push(createdPerSecond);
    }
  }
  const rows = measurements.map(({ row: { floorOf, ...row } }, m): Row => ({
    ...row,
    runs: runs[m]!,
    cpu: cpu[m]!,
    ...(created[m]!.length > 0 && { created: created[m]! }),
  }));
  for (const [m, row] of rows.entries()) {
    const floorOf = measurements[m]!.row.floorOf;
    const floor = rows.find((other) => other.what === floorOf);
    if (floor) rows[m] = { ...row, floor: median(floor.runs) };
    log(`${row.driver} ${row.table} ${row.what}: ${row.runs.map((r) => r.toFixed(0)).join(', ')}`);
  }
  return rows;
}

function formatRate(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** A row's CPU per task, medians of its runs: a total, or this process + the server (one run's sum). */
function cpuPerTask(row: Row): { node: number; server?: number; total: number } {
  const node = median(row.cpu.map((cpu) => cpu.node));
  // On PGlite the database runs in this process: its CPU is the process's.
  if (row.driver === 'PGlite' || row.cpu.some((cpu) => cpu.server === undefined))
    return { node, total: node };
  return {
    node,
    server: median(row.cpu.map((cpu) => cpu.server!)),
    total: median(row.cpu.map((cpu) => cpu.node + cpu.server!)),
  };
}

function formatCpu(row: Row): string {
  const { node, server, total } = cpuPerTask(row);
  return server === undefined
    ? total.toFixed(0)
    : `${node.toFixed(0)} + ${server.toFixed(0)} = ${total.toFixed(0)}`;
}

async function main(): Promise<void> {
  const totalStart = process.hrtime.bigint();
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  const serverVersion = ((await client.query('SHOW server_version')).rows[0] as { server_version: string })
    .server_version;
  const settings = (
    await client.query(
      `SELECT name, setting FROM pg_settings
       WHERE name IN ('synchronous_commit', 'fsync', 'shared_buffers', 'autovacuum', 'max_connections')`,
    )
  ).rows as { name: string; setting: string }[];
  await client.end();

  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-pglite-'));
  const pglite = await PGlite.create(dataDir);
  const pgliteVersion = ((await pglite.query('SHOW server_version')).rows[0] as { server_version: string })
    .server_version;

  const machine = [
    `${os.type()} ${os.release()} ${os.arch()}, ${os.cpus()[0]?.model ?? 'unknown CPU'}`,
    `nproc ${execSync('nproc').toString().trim()}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `node ${process.version}`,
    `PostgreSQL ${serverVersion} (${settings.map((s) => `${s.name}=${s.setting}`).join(', ')})`,
    `PGlite ${pgliteVersion} (data in a directory on ${os.tmpdir()})`,
  ];
  log(machine.join('\n'));

  const rows: Row[] = [];

  // The server: a pool for the floor (a connection per loop) and the tests beside the store.
  const pool = new pg.Pool({ connectionString: serverUrl, max: 20 });
  const floorNames = new Map<string, string>();
  const runOnServer = (text: string, params: unknown[]) => {
    let name = floorNames.get(text);
    if (name === undefined) floorNames.set(text, (name = `floor-${floorNames.size}`));
    return pool.query({ name, text, values: params });
  };
  const server: PostgresConnection = { connectionString: serverUrl };
  rows.push(
    ...(await interleaved([
      ...tableMeasurements('server', 'empty', server, pool, runOnServer, TASKS.server, undefined),
      ...graphileWorkerMeasurements(TASKS.server),
    ])),
  );
  const serverFilled = await migratedSchema(server);
  log(`server: 1M final rows in ${(await fillFinal(pool, serverFilled)).toFixed(1)} s`);
  rows.push(
    ...(await interleaved(
      tableMeasurements('server', '1M final', server, pool, runOnServer, TASKS.server, serverFilled),
    )),
  );
  await pool.query(`DROP SCHEMA "${serverFilled}" CASCADE`);
  await pool.end();

  const wake = await wakeLatency(WAKE_SAMPLES);
  log(`wake-up p50 ${percentile(wake, 50).toFixed(1)} ms, p99 ${percentile(wake, 99).toFixed(1)} ms`);

  // PGlite: one connection; the floor's loops take turns on it.
  const lite: PostgresConnection = { pglite };
  const runOnPglite = (text: string, params: unknown[]) => pglite.query(text, params);
  rows.push(
    ...(await interleaved(
      tableMeasurements('PGlite', 'empty', lite, pglite, runOnPglite, TASKS.pglite, undefined),
    )),
  );
  const liteFilled = await migratedSchema(lite);
  log(`PGlite: 1M final rows in ${(await fillFinal(pglite, liteFilled)).toFixed(1)} s`);
  rows.push(
    ...(await interleaved(
      tableMeasurements('PGlite', '1M final', lite, pglite, runOnPglite, TASKS.pglite, liteFilled),
    )),
  );
  await pglite.close();
  rmSync(dataDir, { recursive: true, force: true });

  // The report.
  const lines = [
    ...machine.map((line) => `- ${line}`),
    '',
    '| driver | table | measured | runs (tasks/s) | median tasks/s | floor (median) | ratio to floor | slowdown empty → 1M | CPU µs per task (node + server) |',
    '| ------ | ----- | -------- | -------------: | -------------: | -------------: | -------------: | ---------: | ---------: |',
  ];
  for (const row of rows) {
    const value = median(row.runs);
    const empty = rows.find((r) => r.driver === row.driver && r.table === 'empty' && r.what === row.what);
    const cells = [
      row.driver,
      row.table,
      row.what,
      row.runs.map(formatRate).join(', '),
      formatRate(value),
      row.floor === undefined ? '' : formatRate(row.floor),
      row.floor === undefined ? '' : (value / row.floor).toFixed(2),
      row.table === '1M final' && empty ? (median(empty.runs) / value).toFixed(2) : '',
      formatCpu(row),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  // The throughput target is stated against graphile-worker: the same run's medians, divided; and the
  // target as a rate, beside the bare floor of 1 loop × 16 (16 tasks per claim and per finish statement).
  const serverEmptyRow = (what: string): Row =>
    rows.find((r) => r.driver === 'server' && r.table === 'empty' && r.what === what)!;
  const serverEmpty = (what: string): number => median(serverEmptyRow(what).runs);
  const cores = os.cpus().length;
  const { oneByOne, batched } = GRAPHILE_WORKER_CONFIGURATIONS;
  const floor = serverEmpty(floorLabel(1, 16));
  const targets = [
    { batch: 1, reference: 'one job per fetch', rate: serverEmpty(oneByOne.label), factor: 2 },
    { batch: 16, reference: 'batched (500 per fetch)', rate: serverEmpty(batched.label), factor: 1 },
  ];
  lines.push('', 'Against graphile-worker in this run (server, empty table):', '');
  for (const { batch, reference, rate, factor } of targets) {
    const api = `API: 16 handlers, batches of ${batch}`;
    const store = serverEmpty(api);
    // What the target leaves per task if every core of the machine worked for it and nothing else.
    const budget = (cores * 1e6) / (factor * rate);
    lines.push(
      `- API batches of ${batch} ÷ graphile-worker ${reference} = ${(store / rate).toFixed(2)} ` +
        `(target ≥ ${factor}: ${formatRate(factor * rate)} tasks/s, ` +
        `${((factor * rate) / floor).toFixed(2)} × the floor of 1 loop × 16; at most ` +
        `${budget.toFixed(0)} µs of CPU per task on ${cores} cores, the API used ` +
        `${cpuPerTask(serverEmptyRow(api)).total.toFixed(0)}).`,
    );
  }
  lines.push('', '| creation (createMany of 1,000) | median tasks/s |', '| --- | ---: |');
  for (const row of rows.filter((r) => r.created)) {
    lines.push(
      `| ${row.driver}, ${row.table}, before batches of ${row.batch} | ${formatRate(median(row.created!))} |`,
    );
  }
  lines.push(
    '',
    `Wake-up latency across processes (server, ${wake.length} samples): p50 ${percentile(wake, 50).toFixed(1)} ms, ` +
      `p99 ${percentile(wake, 99).toFixed(1)} ms, max ${Math.max(...wake).toFixed(1)} ms.`,
    '',
    `Total run time ${seconds(totalStart).toFixed(0)} s.`,
  );
  console.log(lines.join('\n'));
}

await main();
