/**
 * The reference that the PostgreSQL store's throughput target is stated against: graphile-worker on the
 * same server, measured in the same run as the store (the machine's speed varies from day to day, so a
 * figure from another day is no reference). Used by bench/postgres-lifecycle.ts.
 *
 * One run: a fresh graphile-worker schema of its own, `count` jobs of one task added in bulk and
 * `VACUUM ANALYZE` (untimed), then a runner with 16 concurrent jobs and a task that does nothing runs them
 * all (timed), and the schema is dropped.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import pg from 'pg';
import { Logger, makeWorkerUtils, run, type JobHelpers, type WorkerEvents } from 'graphile-worker';
import { startPhase, throughput, type Throughput, type TimedPhase } from './support.js';
import { walMark, walPerTask } from './wal-count.js';

const TASK = 'bench';
const CONCURRENCY = 16;
/** graphile-worker's advice for `maxPoolSize`: 10 or `concurrentJobs + 2`, whichever is larger. */
const POOL_SIZE = Math.max(10, CONCURRENCY + 2);
const ADD_CHUNK = 1000;

type WorkerSettings = GraphileConfig.WorkerOptions;

/** The configurations measured, with the labels of their rows. */
export const GRAPHILE_WORKER_CONFIGURATIONS = {
  /**
   * graphile-worker's default: no local queue and no completion batching (both `-1`), so each of the 16
   * concurrency slots fetches one job per query and releases it with a statement of its own (which it
   * does not wait for before fetching the next job).
   */
  oneByOne: {
    label: 'graphile-worker: 16 concurrent, one job per fetch (its default)',
    worker: {} satisfies WorkerSettings,
  },
  /**
   * Batching (graphile-worker 0.17 and later; 0.16 has neither option), as graphile-worker's
   * documentation recommends it for high throughput (worker.graphile.org/docs/performance, "Batching",
   * and the configuration its throughput figures were measured with): `localQueue.size` fetches that many
   * jobs in one query and hands them to the concurrency slots locally; `completeJobBatchDelay: 0` and
   * `failJobBatchDelay: 0` release the jobs completed (failed) until a timer of 0 ms fires in one
   * statement. The size is the one of its documented throughput figures (500); its suggested starting
   * point, `concurrentJobs + 1` (17), was slower in a trial on this machine. Jobs are waiting when the
   * runner starts, and the local queue fetches again as soon as a full batch is handed out, so no poll
   * interval is waited for (nor in the default, where a slot fetches again as soon as its job is done).
   */
  batched: {
    label: 'graphile-worker: 16 concurrent, batched (localQueue.size 500, completeJobBatchDelay 0)',
    worker: {
      localQueue: { size: 500 },
      completeJobBatchDelay: 0,
      failJobBatchDelay: 0,
    } satisfies WorkerSettings,
  },
  /**
   * Batched as above, but fetching 16 jobs per query (`localQueue.size 16`): as many jobs per fetch as
   * the store claims per statement when 16 handlers ask for one task each (their claims share one
   * statement). Measured to show what the fetch size is worth to graphile-worker; the targets are stated
   * against its default and its best.
   */
  batchedBy16: {
    label: 'graphile-worker: 16 concurrent, batched (localQueue.size 16, completeJobBatchDelay 0)',
    worker: {
      localQueue: { size: 16 },
      completeJobBatchDelay: 0,
      failJobBatchDelay: 0,
    } satisfies WorkerSettings,
  },
} as const;

export type GraphileWorkerConfiguration = keyof typeof GRAPHILE_WORKER_CONFIGURATIONS;

/** Passes graphile-worker's errors on, and nothing else. */
const quiet = new Logger(() => (level: string, message: string) => {
  if (level === 'error') console.error(`graphile-worker: ${message}`);
});

async function query(connectionString: string, texts: string[]): Promise<unknown[][]> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const answers: unknown[][] = [];
    for (const text of texts) answers.push((await client.query(text)).rows);
    return answers;
  } finally {
    await client.end();
  }
}

/** Resolves once no client of the pool is checked out: every statement sent on it has been answered. */
function settled(pool: pg.Pool): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (pool.idleCount < pool.totalCount || pool.waitingCount > 0) return;
      pool.off('release', onRelease);
      resolve();
    };
    // A released client joins the idle ones after the event.
    const onRelease = (): void => void setImmediate(check);
    pool.on('release', onRelease);
    check();
  });
}

/** A fresh migrated schema holding `count` jobs of the task, vacuumed and analyzed. Answers the job ids. */
async function fill(connectionString: string, schema: string, count: number): Promise<Set<string>> {
  const utils = await makeWorkerUtils({ connectionString, schema, logger: quiet });
  const ids = new Set<string>();
  try {
    await utils.migrate();
    for (let added = 0; added < count; added += ADD_CHUNK) {
      const specs = Array.from({ length: Math.min(ADD_CHUNK, count - added) }, (_, i) => ({
        identifier: TASK,
        payload: { n: added + i },
      }));
      for (const job of await utils.addJobs(specs)) ids.add(job.id);
    }
  } finally {
    await utils.release();
  }
  if (ids.size !== count) throw new Error(`graphile-worker added ${ids.size} of ${count} jobs`);
  // Autovacuum may be off: without statistics the first fetches would be planned for an empty table.
  const [tables] = await query(connectionString, [
    `SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables WHERE schemaname = '${schema}'`,
  ]);
  await query(
    connectionString,
    (tables as { name: string }[]).map(({ name }) => `VACUUM ANALYZE ${name}`),
  );
  return ids;
}

/**
 * Runs the waiting jobs with a runner of 16 concurrent jobs until `count` have run. Timed from the
 * creation of its worker pool (the schema is migrated, the jobs are waiting) until every job ran and every
 * completion is committed: the runner is stopped once the last job has run (which flushes batched
 * completions, and takes a few ms to release its LISTEN connection), and the time ends when every
 * statement sent on its pool has been answered (releases of single jobs are not awaited by the runner).
 */
async function runAll(
  connectionString: string,
  schema: string,
  configuration: GraphileWorkerConfiguration,
  count: number,
): Promise<{ timed: TimedPhase; ran: string[] }> {
  const ran: string[] = [];
  let allRan!: () => void;
  const done = new Promise<void>((resolve) => (allRan = resolve));
  const task = (_payload: unknown, helpers: JobHelpers): void => {
    if (ran.push(helpers.job.id) === count) allRan();
  };
  const events: WorkerEvents = new EventEmitter();
  let phase: (() => TimedPhase) | undefined;
  events.once('pool:create', () => (phase = startPhase()));
  const pool = new pg.Pool({ connectionString, max: POOL_SIZE });
  const report = (error: Error): void => console.error(`graphile-worker pool: ${error.message}`);
  pool.on('error', report).on('connect', (client) => client.on('error', report));
  try {
    const runner = await run({
      pgPool: pool,
      schema,
      concurrency: CONCURRENCY,
      noHandleSignals: true,
      logger: quiet,
      events,
      taskList: { [TASK]: task },
      preset: { worker: GRAPHILE_WORKER_CONFIGURATIONS[configuration].worker },
    });
    // A runner that ends before every job ran (on an error) ends the measurement; it has stopped then.
    const early = runner.promise.then(() => Promise.reject(new Error('the runner stopped early')));
    await Promise.race([done, early]);
    await runner.stop();
    await settled(pool);
    if (phase === undefined) throw new Error('graphile-worker created no worker pool');
    return { timed: phase(), ran };
  } finally {
    await pool.end();
  }
}

/**
 * One graphile-worker run on the server at `connectionString`, in a schema of its own that is dropped
 * afterwards: `count` jobs added and vacuumed (untimed), then {@link runAll}. Every job must have run
 * exactly once and the jobs table must be empty at the end. Answers jobs/s and the CPU per job.
 */
export async function graphileWorkerRun(options: {
  connectionString: string;
  count: number;
  configuration: GraphileWorkerConfiguration;
}): Promise<Throughput> {
  const { connectionString, count, configuration } = options;
  const schema = `gw_bench_${randomBytes(4).toString('hex')}`;
  try {
    const added = await fill(connectionString, schema, count);
    const mark = await walMark(connectionString);
    const { timed, ran } = await runAll(connectionString, schema, configuration, count);
    const wal = await walPerTask(connectionString, schema, mark, count);
    const distinct = new Set(ran.filter((id) => added.has(id))).size;
    const [[left]] = (await query(connectionString, [
      `SELECT count(*)::integer AS jobs FROM "${schema}"._private_jobs`,
    ])) as [[{ jobs: number }]];
    if (ran.length !== count || distinct !== count || left.jobs !== 0) {
      throw new Error(
        `graphile-worker ran ${ran.length} jobs (${distinct} distinct added ones) of ${count}; ${left.jobs} left`,
      );
    }
    return { ...throughput(count, timed), wal };
  } finally {
    await query(connectionString, [`DROP SCHEMA IF EXISTS "${schema}" CASCADE`]);
  }
}
