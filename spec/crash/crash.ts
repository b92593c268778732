/**
 * Crashes at random moments: `npm run test:crash`. Two loops, each stopping at the first violated
 * invariant, and the process exits 1 if either found one:
 * - on PostgreSQL (a cluster of its own, on a free port or CRASH_PG_PORT): CRASH_ROUNDS rounds (default
 *   30) of CRASH_TASKS tasks (default 150) worked by 4 processes × 4 workers with locks of CRASH_LOCK_MS
 *   (default 1000), while worker and engine processes are SIGKILLed, backends terminated and the server
 *   restarted at random moments (each kind of fault with a chance of CRASH_FAULT_CHANCE, default 0.5);
 * - on PGlite: CRASH_KILLS kills (default 30) of a process writing to a data directory.
 * CRASH_STORES picks the loops (`server,pglite`, the default). Prints rounds and kills survived, the
 * faults brought and what was checked.
 */
import { runPgliteKillLoop, type PgliteKillResult } from './pglite-kill-loop.js';
import { runServerCrashLoop, type ServerCrashResult } from './server-crash-loop.js';

const stores = (process.env.CRASH_STORES ?? 'server,pglite').split(',').map((store) => store.trim());
for (const store of stores) {
  if (store !== 'server' && store !== 'pglite')
    throw new Error(`CRASH_STORES: no store ${store} (server, pglite)`);
}
const number = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`${name} must be a number ≥ 0, got ${process.env[name]}`);
  return value;
};
const print = (line: string): void => console.log(`  ${line}`);

let server: ServerCrashResult | undefined;
let pglite: PgliteKillResult | undefined;
if (stores.includes('server')) {
  const rounds = number('CRASH_ROUNDS', 30);
  console.log(`PostgreSQL: ${rounds} rounds, 4 processes × 4 workers, an engine consuming outcomes`);
  server = await runServerCrashLoop({
    rounds,
    tasksPerRound: number('CRASH_TASKS', 150),
    processes: 4,
    workersPerProcess: 4,
    concurrency: 2,
    lockMs: number('CRASH_LOCK_MS', 1000),
    faultChance: number('CRASH_FAULT_CHANCE', 0.5),
    port: process.env.CRASH_PG_PORT === undefined ? undefined : number('CRASH_PG_PORT', 0),
    print,
  });
}
if (stores.includes('pglite')) {
  const kills = number('CRASH_KILLS', 30);
  console.log(`PGlite: ${kills} kills of a process writing to a data directory`);
  pglite = await runPgliteKillLoop({ kills, print });
}

console.log('');
if (server) {
  const { figures } = server;
  console.log(
    `PostgreSQL: ${server.roundsSurvived} rounds survived, ${server.tasks} tasks, ${server.seconds.toFixed(0)} s`,
  );
  console.log(
    `  faults: ${Object.entries(server.faults)
      .map(([kind, n]) => `${kind} ${n}`)
      .join(', ')}`,
  );
  if (figures) {
    console.log(
      `  ${figures.locks} locks, ${figures.takeovers} taken over after expiry (${figures.comebacks} of them from ` +
        `a handler killed mid-run), ${figures.extensions} extensions, ${figures.handlerRuns} handler runs, ` +
        `${figures.reportsFailed} reports failed, ${figures.engineLives} engine lives handled outcomes`,
    );
  }
  console.log(
    '  checked after each round: every acknowledged task stored, once (idempotent creates retried across faults); ' +
      'each task exactly one outcome, the one the store acknowledged to a worker; no lock taken while another held; ' +
      "every handler ran under a lock the store granted, a taken-over task's after the previous lock expired; " +
      "every task whose handler was killed came back; the feed's positions 1…end, each change once; " +
      'the engine handled each outcome exactly once, in order, across its restarts',
  );
}
if (pglite) {
  console.log(
    `PGlite: ${pglite.killsSurvived} kills survived (${pglite.midWrite} mid-write), ${pglite.tasks} tasks, ` +
      `${pglite.outcomes} outcomes, ${pglite.seconds.toFixed(0)} s`,
  );
  console.log(
    '  checked after each kill: the data directory reopens and migrates; every acknowledged task, lock and ' +
      'outcome is there as acknowledged; nothing else but the interrupted write; the feed reads back gap-free ' +
      'with a change for each',
  );
}
const violations = [...(server?.violations ?? []), ...(pglite?.violations ?? [])];
for (const violation of violations) console.error(`VIOLATED: ${violation}`);
process.exit(violations.length > 0 ? 1 : 0);
