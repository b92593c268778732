/**
 * One `ExternalTaskWorker` process as users run it, on the local PostgreSQL server: 20,000 tasks that do
 * nothing, created beforehand (untimed), worked off by four worker deployments, each beside the
 * graphile-worker configuration that matches it, all in the same run and taking turns (first run of
 * each, then the second, …), medians of 3; tasks/s, CPU µs per task (this process + the server's) and
 * the WAL records and bytes per task written to the store's relations (bench/wal-count.ts; needs the
 * server on this machine and pg_waldump).
 *
 * Run with `npm run bench:worker` (which is `tsx bench/worker-throughput.ts`); `--quick` runs each once
 * on 2,000 tasks, to try the benchmark out. Reads `EXTERNAL_TASK_PG_URL` (default
 * `postgres://postgres@127.0.0.1:5432/test`). A full run also draws the medians into
 * docs/images/worker-throughput.svg. See docs/benchmarks.md.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import pg from 'pg';
import type { PostgresConnection } from '../lib/postgres/index.js';
import {
  GRAPHILE_WORKER_CONFIGURATIONS,
  graphileWorkerRun,
  type GraphileWorkerConfiguration,
} from './graphile-worker-reference.js';
import { workerRun, type WorkerDeployment } from './store-lifecycle.js';
import { log, median, migratedSchema, serverUrl, type PhaseCpu, type Throughput } from './support.js';
import { barChartSvg } from './svg-chart.js';
import type { WalPerTask } from './wal-count.js';

const quick = process.argv.includes('--quick');
const RUNS = quick ? 1 : 3;
const TASKS = quick ? 2_000 : 20_000;

/** A deployment of ours and the graphile-worker configuration it is measured beside. */
interface Pairing {
  readonly label: string;
  readonly deployment: WorkerDeployment;
  readonly reference: GraphileWorkerConfiguration;
}

const PAIRINGS: readonly Pairing[] = [
  {
    label: 'one worker, concurrency 16, default options',
    deployment: { workers: 1, options: { concurrency: 16 } },
    reference: 'batchedBy16',
  },
  {
    label: 'one worker, concurrency 16, maxTasks 1',
    deployment: { workers: 1, options: { concurrency: 16, maxTasks: 1 } },
    reference: 'oneByOne',
  },
  {
    label: '16 workers, concurrency 1',
    deployment: { workers: 16, options: { concurrency: 1 } },
    reference: 'oneByOne',
  },
  {
    label: 'one worker, concurrency 16, bufferSize 500, maxTasks 250',
    deployment: { workers: 1, options: { concurrency: 16, bufferSize: 500, maxTasks: 250 } },
    reference: 'batched',
  },
  {
    label: 'the same, finalTaskRetention 0 (final tasks deleted at once)',
    deployment: {
      workers: 1,
      finalTaskRetention: 0,
      options: { concurrency: 16, bufferSize: 500, maxTasks: 250 },
    },
    reference: 'batched',
  },
  {
    label: 'one worker, concurrency 16, default options, finalTaskRetention 0',
    deployment: { workers: 1, finalTaskRetention: 0, options: { concurrency: 16 } },
    reference: 'batchedBy16',
  },
];

interface Series {
  readonly runs: number[];
  readonly cpu: PhaseCpu[];
  readonly wal: WalPerTask[];
}

function record(series: Series, { perSecond, cpuPerTask, wal }: Throughput): void {
  series.runs.push(perSecond);
  series.cpu.push(cpuPerTask);
  if (wal !== undefined) series.wal.push(wal);
}

/** Median WAL records and bytes per task of the runs that counted them, or n/a. */
function formatWal({ wal }: Series): string {
  if (wal.length === 0) return 'n/a';
  return `${median(wal.map((w) => w.records)).toFixed(1)} / ${Math.round(median(wal.map((w) => w.bytes)))} B`;
}

function formatRate(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** Median CPU µs per task: this process + the server = the total (medians of each). */
function formatCpu({ cpu }: Series): string {
  const node = median(cpu.map((c) => c.node));
  if (cpu.some((c) => c.server === undefined)) return node.toFixed(0);
  const server = median(cpu.map((c) => c.server!));
  const total = median(cpu.map((c) => c.node + c.server!));
  return `${node.toFixed(0)} + ${server.toFixed(0)} = ${total.toFixed(0)}`;
}

async function main(): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  const version = (await client.query('SHOW server_version')).rows[0] as { server_version: string };
  const settings = (
    await client.query(
      `SELECT name, setting FROM pg_settings WHERE name IN ('synchronous_commit', 'fsync', 'autovacuum')`,
    )
  ).rows as { name: string; setting: string }[];
  const machine = [
    `${os.type()} ${os.release()} ${os.arch()}, ${os.cpus()[0]?.model ?? 'unknown CPU'}`,
    `nproc ${execSync('nproc').toString().trim()}, node ${process.version}`,
    `PostgreSQL ${version.server_version} (${settings.map((s) => `${s.name}=${s.setting}`).join(', ')})`,
  ];
  log(machine.join('\n'));

  const server: PostgresConnection = { connectionString: serverUrl };
  const ours = PAIRINGS.map((): Series => ({ runs: [], cpu: [], wal: [] }));
  const references = new Map<GraphileWorkerConfiguration, Series>(
    PAIRINGS.map(({ reference }) => [reference, { runs: [], cpu: [], wal: [] }]),
  );
  for (let run = 0; run < RUNS; run++) {
    for (const [p, { label, deployment }] of PAIRINGS.entries()) {
      const schema = await migratedSchema(server);
      try {
        record(ours[p]!, await workerRun(server, schema, TASKS, deployment));
      } finally {
        await client.query(`DROP SCHEMA "${schema}" CASCADE`);
      }
      log(`${label}: ${formatRate(ours[p]!.runs.at(-1)!)} tasks/s`);
    }
    for (const [configuration, series] of references) {
      record(series, await graphileWorkerRun({ connectionString: serverUrl, count: TASKS, configuration }));
      log(
        `${GRAPHILE_WORKER_CONFIGURATIONS[configuration].label}: ${formatRate(series.runs.at(-1)!)} jobs/s`,
      );
    }
  }
  await client.end();

  const lines = [
    `${TASKS.toLocaleString('en-US')} tasks, ${RUNS === 1 ? 'one run' : `medians of ${RUNS} runs`}; CPU µs per task: this process + the server; WAL records / bytes per task written to the store's relations (claim + outcome)`,
    '',
    '| ours | tasks/s (runs) | median | CPU µs/task | WAL/task | graphile-worker | jobs/s (runs) | median | CPU µs/job | WAL/job | ratio |',
    '|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|',
  ];
  for (const [p, { label, reference }] of PAIRINGS.entries()) {
    const mine = ours[p]!;
    const theirs = references.get(reference)!;
    const runs = (series: Series): string => series.runs.map(formatRate).join(', ');
    lines.push(
      `| ${label} | ${runs(mine)} | ${formatRate(median(mine.runs))} | ${formatCpu(mine)} | ${formatWal(mine)} | ` +
        `${GRAPHILE_WORKER_CONFIGURATIONS[reference].label.replace('graphile-worker: ', '')} | ${runs(theirs)} | ` +
        `${formatRate(median(theirs.runs))} | ${formatCpu(theirs)} | ${formatWal(theirs)} | ` +
        `${(median(mine.runs) / median(theirs.runs)).toFixed(2)} |`,
    );
  }
  console.log([...machine.map((line) => `- ${line}`), '', ...lines].join('\n'));
  if (!quick) {
    const chart = new URL('../docs/images/worker-throughput.svg', import.meta.url);
    mkdirSync(new URL('.', chart), { recursive: true });
    writeFileSync(
      chart,
      barChartSvg({
        title: 'One worker process on PostgreSQL: ours beside graphile-worker',
        unit: 'tasks/s, median',
        series: [
          { name: 'external-task-api', color: '#2f6db5' },
          { name: 'graphile-worker, matching', color: '#b0b0b0' },
        ],
        groups: PAIRINGS.map(({ label, reference }, p) => ({
          label,
          values: [median(ours[p]!.runs), median(references.get(reference)!.runs)],
        })),
        note: `${new Date().toISOString().slice(0, 16)} UTC, ${TASKS.toLocaleString('en-US')} tasks, medians of ${RUNS}; ${machine[0]}; ${machine[2]}`,
      }),
    );
    log(`wrote ${chart.pathname}`);
  }
}

await main();
