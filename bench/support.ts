/** What the PostgreSQL benchmarks share: where the server is, the lock, and small helpers. */
import { execSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { PostgresExternalTaskRepository, type PostgresConnection } from '../lib/postgres/index.js';
import type { WalPerTask } from './wal-count.js';

export const serverUrl = process.env.EXTERNAL_TASK_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const identity = { token: 'bench' };
/** Long enough that no lock expires during a run. */
export const LOCK_MS = 5 * 60 * 1000;
export const silent = { error: () => undefined, warn: () => undefined };

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};
export const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};
/** Seconds since `start` (a `process.hrtime.bigint()`). */
export const seconds = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;
export const log = (line: string): void => console.error(line);

/**
 * CPU seconds of a timed phase: this process's (the store, the API, the handlers, the driver — and on
 * PGlite the database too), and the server's (every process of the local PostgreSQL server: backends and
 * background writers; undefined when the server is not on this machine or /proc cannot be read).
 */
export interface PhaseCpu {
  readonly node: number;
  readonly server: number | undefined;
}

/** A timed phase: its wall seconds and the CPU it took. */
export interface TimedPhase {
  readonly seconds: number;
  readonly cpu: PhaseCpu;
}

const serverIsLocal = ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(new URL(serverUrl).hostname);
const clockTicks = (() => {
  try {
    return Number(execSync('getconf CLK_TCK').toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * The CPU seconds the local server's processes have used so far: the live ones' own, plus what the
 * server's main process has collected from its children that ended (a backend that ends during a phase
 * moves its time there, so the difference over the phase still counts it). Undefined where unreadable.
 */
function serverCpuSeconds(): number | undefined {
  if (!serverIsLocal) return undefined;
  // After "pid (comm) " in stat(5): state ppid … utime stime cutime cstime (fields 14–17).
  const server = new Map<string, string[]>();
  try {
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      } catch {
        continue; // ended meanwhile
      }
      const close = stat.lastIndexOf(')');
      if (stat.slice(stat.indexOf('(') + 1, close) === 'postgres') {
        server.set(pid, stat.slice(close + 2).split(' '));
      }
    }
  } catch {
    return undefined;
  }
  if (server.size === 0) return undefined;
  let ticks = 0;
  for (const fields of server.values()) {
    ticks += Number(fields[11]) + Number(fields[12]);
    // The main process (its parent is no server process) holds the time of the backends that ended.
    if (!server.has(fields[1]!)) ticks += Number(fields[13]) + Number(fields[14]);
  }
  return ticks / clockTicks;
}

/** Starts timing a phase; the function returned ends it. */
export function startPhase(): () => TimedPhase {
  const start = process.hrtime.bigint();
  const node = process.cpuUsage();
  const server = serverCpuSeconds();
  return () => {
    const used = process.cpuUsage(node);
    const serverNow = serverCpuSeconds();
    return {
      seconds: seconds(start),
      cpu: {
        node: (used.user + used.system) / 1e6,
        server: server === undefined || serverNow === undefined ? undefined : serverNow - server,
      },
    };
  };
}

/**
 * What a run measured: tasks/s, the CPU µs per task of this process and of the server, and where counted
 * (the local server), the WAL records and bytes per task its schema received (bench/wal-count.ts).
 */
export interface Throughput {
  readonly perSecond: number;
  readonly cpuPerTask: PhaseCpu;
  readonly wal?: WalPerTask | undefined;
}

/** The {@link Throughput} of `count` tasks done in `phase`. */
export function throughput(count: number, phase: TimedPhase): Throughput {
  const perTask = (cpuSeconds: number): number => (cpuSeconds * 1e6) / count;
  return {
    perSecond: count / phase.seconds,
    cpuPerTask: {
      node: perTask(phase.cpu.node),
      server: phase.cpu.server === undefined ? undefined : perTask(phase.cpu.server),
    },
  };
}

/**
 * The store on `schema`, migrated, logging nothing; `synchronousCommit` and `finalTaskRetention` are the
 * store's options (the default retention when left out).
 */
export async function openStore(
  connection: PostgresConnection,
  schema: string,
  synchronousCommit = true,
  finalTaskRetention?: number,
): Promise<PostgresExternalTaskRepository> {
  const repository = new PostgresExternalTaskRepository(connection, {
    schema,
    logger: silent,
    synchronousCommit,
    finalTaskRetention,
  });
  await repository.migrate();
  return repository;
}

/** A fresh migrated schema of the store. */
export async function migratedSchema(connection: PostgresConnection): Promise<string> {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  await (await openStore(connection, schema)).close();
  return schema;
}
