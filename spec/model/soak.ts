/**
 * The model-based test at soak strength: `npm run test:soak`. MODEL_SOAK_RUNS runs per store (default
 * 1,000), of up to MODEL_SOAK_STEPS steps (default 40); MODEL_SOAK_STORES picks stores by name
 * (comma-separated: in-memory, server, pglite; default all). Prints runs, steps and time per store; a
 * failure prints the shrunk sequence and what replays it (MODEL_SEED, MODEL_PATH, MODEL_REPLAY_PATH).
 */
import { serverReachable } from '../postgres/support.js';
import { runModel, type ModelRunTotals } from './model-run.js';
import { inMemoryStore, pgliteStore, serverStore, type StoreUnderTest } from './stores.js';

const runs = Number(process.env.MODEL_SOAK_RUNS ?? 1000);
const maxSteps = Number(process.env.MODEL_SOAK_STEPS ?? 40);
const chosen = (process.env.MODEL_SOAK_STORES ?? 'in-memory,server,pglite').split(',');
const stores: Record<string, StoreUnderTest> = {
  'in-memory': inMemoryStore,
  server: serverStore,
  pglite: pgliteStore,
};

const totals: [string, ModelRunTotals][] = [];
let failed = false;
for (const name of chosen) {
  const store = stores[name.trim()];
  if (!store) throw new Error(`MODEL_SOAK_STORES: no store ${name} (in-memory, server, pglite)`);
  if (store === serverStore && !(await serverReachable()))
    throw new Error('the PostgreSQL server is unreachable');
  console.log(`${store.name}: ${runs} runs of up to ${maxSteps} steps…`);
  try {
    totals.push([store.name, await runModel(store, { runs, maxSteps })]);
  } catch (error) {
    failed = true;
    console.error((error as Error).message);
  } finally {
    await store.release?.();
  }
}

console.log('\nstore               runs     steps   seconds');
for (const [name, { runs: done, steps, ms }] of totals) {
  console.log(
    `${name.padEnd(18)} ${String(done).padStart(5)} ${String(steps).padStart(9)} ${(ms / 1000).toFixed(1).padStart(9)}`,
  );
}
process.exit(failed ? 1 : 0);
