import { requireServer, sharedPglite } from '../postgres/support.js';
import { runModel } from './model-run.js';
import { inMemoryStore, pgliteStore, serverStore, type StoreUnderTest } from './stores.js';

/**
 * The runs CI makes per store, of up to {@link MAX_STEPS} steps each: together 30-45 s on 2 cores
 * (in memory ~3 s, server ~15 s, PGlite ~10 s after its open of several seconds).
 * `npm run test:soak` makes far more. A failure prints the shrunk sequence of steps and what replays it:
 * MODEL_SEED, MODEL_PATH and MODEL_REPLAY_PATH (see `runModel`).
 */
const CI_RUNS = { inMemory: 100, server: 20, pglite: 10 };
const MAX_STEPS = 40;

function itAgrees(store: StoreUnderTest, runs: number): void {
  it(`agrees with the ${store.name} store over ${runs} random runs of up to ${MAX_STEPS} steps`, async () => {
    await runModel(store, { runs, maxSteps: MAX_STEPS });
  });
}

describe('the reference model, step by step, against every store', function () {
  this.timeout(120_000);

  describe('in memory', () => {
    itAgrees(inMemoryStore, CI_RUNS.inMemory);
  });

  describe('on the PostgreSQL server', () => {
    before(async function () {
      await requireServer(this);
    });
    after(() => serverStore.release?.());

    itAgrees(serverStore, CI_RUNS.server);
  });

  describe('on PGlite', () => {
    before(async () => {
      await sharedPglite();
    });

    itAgrees(pgliteStore, CI_RUNS.pglite);
  });
});
