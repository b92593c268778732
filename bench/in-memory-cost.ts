/**
 * The in-memory store beside a bare floor measured in the same run: the lifecycle through the API
 * (create → fetch-and-lock → finish) at batches of 1 and 100 as a ratio to the floor, the long-poll
 * wake-up with 1 and 100 waiters, and the bytes a pending task takes with where they go.
 *
 * Run with `npm run bench:in-memory` (which is `node --expose-gc --import tsx bench/in-memory-cost.ts`).
 * `--quick` runs small numbers to try it out. See docs/benchmarks.md.
 */
import os from 'node:os';
import {
  ExternalTaskApi,
  InMemoryExternalTaskRepository,
  type ExternalTaskQuery,
  type NewExternalTask,
} from '../lib/index.js';
import { FloorStore } from './in-memory-floor.js';
import { storeParts } from './in-memory-parts.js';
import { identity, median, percentile, silent } from './support.js';

const quick = process.argv.includes('--quick');
/** `--only lifecycle`, `--only wake` or `--only memory` runs one part. */
const only = process.argv[process.argv.indexOf('--only') + 1];
const runs = (part: string): boolean => !process.argv.includes('--only') || only === part;
const TOPIC = 'bench';
const WORKER = 'bench-worker';
const LOCK_MS = 5 * 60 * 1000;
/** Tasks per lifecycle sample. */
const LIFECYCLE_TASKS = quick ? 2_000 : 20_000;
const RUNS = 3;
const WAKE_SAMPLES = quick ? 200 : 2_000;
/** Timed queries per filter (after as many untimed). */
const QUERIES = 10_000;
const MEMORY_SIZES = quick ? [20_000] : [200_000, 1_000_000];

const exposedGc = (globalThis as { gc?: () => void }).gc;
if (!exposedGc) throw new Error('run with node --expose-gc (npm run bench:in-memory does)');
const gc: () => void = exposedGc;
/** The JavaScript heap in use and the buffers of typed arrays, which live outside it. */
const heapUsed = (): number => {
  gc();
  gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
};
const nsSince = (start: bigint): number => Number(process.hrtime.bigint() - start);
/** A timed run's cost per task: wall ns, and CPU ns of this process (the machine may be shared). */
interface Cost {
  readonly wall: number;
  readonly cpu: number;
}
/** Starts timing; the function returned answers the cost per task of `tasks`. */
function startTiming(): (tasks: number) => Cost {
  const start = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  return (tasks) => {
    const used = process.cpuUsage(cpu);
    return { wall: nsSince(start) / tasks, cpu: ((used.user + used.system) * 1000) / tasks };
  };
}
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The three lifecycles measured: each `run(batch, offset)` works `LIFECYCLE_TASKS` tasks through, the
 * tasks numbered from `offset`, on the stores it was made with.
 */
interface Lifecycles {
  floor(batch: number, offset: number): Cost;
  repository(batch: number, offset: number): Promise<Cost>;
  api(batch: number, offset: number): Promise<Cost>;
  close(): Promise<void>;
}

/**
 * Lifecycles on stores made once and kept (`fresh` false: what an embedded engine runs, one store for
 * the life of the process), or on fresh stores for every run (`fresh` true).
 */
async function lifecycles(fresh: boolean): Promise<Lifecycles> {
  const makeApi = async (): Promise<ExternalTaskApi> => {
    const api = new ExternalTaskApi({
      repository: new InMemoryExternalTaskRepository({ logger: silent }),
      logger: silent,
    });
    await api.fetchAndLockExternalTasks(identity, WORKER, TOPIC, 1, 0, LOCK_MS); // attaches the feed
    return api;
  };
  const kept = fresh
    ? undefined
    : {
        floor: new FloorStore(),
        repository: new InMemoryExternalTaskRepository({ logger: silent }),
        api: await makeApi(),
      };
  return {
    floor: (batch, offset) => floorLifecycle(kept?.floor ?? new FloorStore(), batch, offset),
    repository: (batch, offset) =>
      repositoryLifecycle(
        kept?.repository ?? new InMemoryExternalTaskRepository({ logger: silent }),
        batch,
        offset,
      ),
    api: async (batch, offset) => {
      const api = kept?.api ?? (await makeApi());
      const cost = await apiLifecycle(api, batch, offset);
      if (!kept) await api.close();
      return cost;
    },
    close: async () => {
      await kept?.api.close();
    },
  };
}

/** ns per task of the floor's lifecycle, `batch` tasks at a time. */
function floorLifecycle(store: FloorStore, batch: number, offset: number): Cost {
  const timed = startTiming();
  for (let done = 0; done < LIFECYCLE_TASKS; done += batch) {
    const now = Date.now();
    for (let i = 0; i < batch; i++) store.create(TOPIC, (offset + done + i) % 3, now);
    const ids = store.claim(TOPIC, WORKER, batch, now + LOCK_MS);
    for (const id of ids) if (!store.finish(id, WORKER, { ok: true })) throw new Error('floor lost a task');
  }
  return timed(LIFECYCLE_TASKS);
}

/** ns per task of the lifecycle through the API, `batch` tasks at a time. */
async function apiLifecycle(api: ExternalTaskApi, batch: number, offset: number): Promise<Cost> {
  const timed = startTiming();
  for (let done = 0; done < LIFECYCLE_TASKS; done += batch) {
    for (let i = 0; i < batch; i++) {
      await api.engine.create(newTask(offset + done + i));
    }
    const tasks = await api.fetchAndLockExternalTasks(identity, WORKER, TOPIC, batch, 0, LOCK_MS);
    if (tasks.length !== batch) throw new Error(`fetched ${tasks.length} of ${batch}`);
    await Promise.all(tasks.map((task) => api.finishExternalTask(identity, WORKER, task.id, { ok: true })));
  }
  return timed(LIFECYCLE_TASKS);
}

/**
 * The same lifecycle on the repository alone — no API, so no access check, argument checks of the
 * facade, change feed subscriber or events — to tell the store's cost from the facade's.
 */
async function repositoryLifecycle(
  repository: InMemoryExternalTaskRepository,
  batch: number,
  offset: number,
): Promise<Cost> {
  const topics = [{ topicName: TOPIC, lockDuration: LOCK_MS }];
  const timed = startTiming();
  for (let done = 0; done < LIFECYCLE_TASKS; done += batch) {
    for (let i = 0; i < batch; i++) await repository.create(newTask(offset + done + i));
    const tasks = await repository.claim({ workerId: WORKER, topics, maxTasks: batch });
    if (tasks.length !== batch) throw new Error(`claimed ${tasks.length} of ${batch}`);
    const outcome = { state: 'finished', result: { ok: true } } as const;
    await Promise.all(
      tasks.map((task) => repository.complete({ externalTaskId: task.id, workerId: WORKER, outcome })),
    );
  }
  return timed(LIFECYCLE_TASKS);
}

function newTask(i: number): NewExternalTask {
  return {
    topic: TOPIC,
    flowNodeInstanceId: `fni-${i}`,
    correlationId: `c-${i}`,
    processInstanceId: `pi-${i}`,
    priority: i % 3,
  };
}

/** µs from a creation to the wake-up of the long poll that gets its task, with `waiters` polls waiting. */
async function wakeUp(waiters: number): Promise<number[]> {
  const repository = new InMemoryExternalTaskRepository({ logger: silent });
  const api = new ExternalTaskApi({ repository, logger: silent });
  let woke: ((at: bigint, id: string) => void) | undefined;
  const poll = (worker: number): void =>
    void api.fetchAndLockExternalTasks(identity, `w-${worker}`, 'wake', 1, 60_000, LOCK_MS).then((tasks) => {
      const at = process.hrtime.bigint();
      if (tasks.length === 1) woke?.(at, `${worker} ${tasks[0]!.id}`);
    });
  for (let worker = 0; worker < waiters; worker++) poll(worker);
  const latencies: number[] = [];
  for (let i = 0; i < WAKE_SAMPLES + WAKE_SAMPLES / 10; i++) {
    await nextTurn(); // every waiter has claimed nothing and waits
    const wakeUp = new Promise<[bigint, string]>((resolve) => (woke = (at, id) => resolve([at, id])));
    const created = process.hrtime.bigint();
    await repository.create({
      topic: 'wake',
      flowNodeInstanceId: 'f',
      correlationId: 'c',
      processInstanceId: 'p',
    });
    const [at, answer] = await wakeUp;
    if (i >= WAKE_SAMPLES / 10) latencies.push(Number(at - created) / 1000);
    const [worker, id] = answer.split(' ') as [string, string];
    await api.finishExternalTask(identity, `w-${worker}`, id, undefined);
    poll(Number(worker));
  }
  await api.close();
  return latencies;
}

/**
 * Bytes per pending task (payload null) of a store filled with `count` tasks, and where they go; with
 * the indexes by flow node instance, process instance and correlation id built (as an engine that
 * cancels and queries by them has them), and without (a store nobody queries builds none).
 */
async function memory(count: number): Promise<{
  total: number;
  unindexed: number;
  parts: [string, number][];
  queries: [string, number][];
}> {
  const inputs: NewExternalTask[] = Array.from({ length: count }, (_, i) => ({
    topic: `topic-${i % 10}`,
    flowNodeInstanceId: `fni-${i}`,
    correlationId: `c-${i}`,
    processInstanceId: `pi-${i}`,
    priority: i % 10,
  }));
  const before = heapUsed();
  const repository = new InMemoryExternalTaskRepository({ logger: silent });
  for (let i = 0; i < count; i += 1000) await repository.createMany(inputs.slice(i, i + 1000));
  const unindexed = heapUsed();
  for (const field of ['flowNodeInstanceId', 'processInstanceId', 'correlationId'])
    await repository.query({ [field]: 'none' });
  const filled = heapUsed();
  const queries = await queryCosts(repository, count);
  const parts: [string, number][] = [];
  let last = filled;
  for (const [name, release, correction] of storeParts(repository, count)) {
    release();
    const now = heapUsed();
    parts.push([name, (last - now + correction) / count]);
    last = now;
  }
  parts.push(['the store object and what is left', (last - before) / count]);
  return { total: (filled - before) / count, unindexed: (unindexed - before) / count, parts, queries };
}

/**
 * µs per query of the filled store, by field: the same at every size when the query starts from an
 * index (a scan would grow with the tasks).
 */
async function queryCosts(
  repository: InMemoryExternalTaskRepository,
  count: number,
): Promise<[string, number][]> {
  const costs: [string, number][] = [];
  const filters: [string, (i: number) => ExternalTaskQuery][] = [
    ['processInstanceId', (i) => ({ processInstanceId: `pi-${(i * 7919) % count}` })],
    ['correlationId', (i) => ({ correlationId: `c-${(i * 7919) % count}` })],
    ['state failed (none)', () => ({ state: 'failed' })],
  ];
  for (const [name, filter] of filters) {
    let start = process.hrtime.bigint();
    for (let i = 0; i < 2 * QUERIES; i++) {
      if (i === QUERIES) start = process.hrtime.bigint(); // the first half warms up
      const page = await repository.query(filter(i));
      if (page.total > 1) throw new Error(`query ${name} found ${page.total} tasks`);
    }
    costs.push([name, nsSince(start) / QUERIES / 1000]);
  }
  return costs;
}

const us = (ns: number): string => (ns / 1000).toFixed(2);

async function main(): Promise<void> {
  const started = process.hrtime.bigint();
  const cpus = os.cpus();
  console.log('# In-memory store beside a bare floor\n');
  console.log(`date:    ${new Date().toISOString()}`);
  console.log('command: npm run bench:in-memory   (node --expose-gc --import tsx bench/in-memory-cost.ts)');
  console.log(
    `machine: ${cpus[0]?.model ?? 'unknown'}, ${cpus.length} cores, load ${os.loadavg()[0]?.toFixed(2)}`,
  );
  console.log(`node:    ${process.version}\n`);
  if (runs('lifecycle')) await lifecycleTable();
  if (runs('wake')) await wakeTable();
  if (runs('memory')) await memoryTable();
  console.log(`\ntotal run time: ${(nsSince(started) / 1e9).toFixed(1)} s`);
}

async function lifecycleTable(): Promise<void> {
  for (const fresh of [true, false]) {
    console.log(
      `## Lifecycle (create → fetch-and-lock → finish), ${LIFECYCLE_TASKS} tasks per run, median of ${RUNS}, ` +
        (fresh
          ? 'a fresh store per run after a full collection\n'
          : 'one store per batch size kept for all its runs (as an engine embeds it), no forced collection\n'),
    );
    console.log(
      '| batch | floor CPU µs/task | repository alone CPU µs/task (÷ floor) | API CPU µs/task | ' +
        'API / floor, CPU (runs) | floor wall µs/task | API wall µs/task | API / floor, wall (runs) |',
    );
    console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const batch of [1, 100]) await lifecycleRow(await lifecycles(fresh), fresh, batch);
    console.log('');
  }
}

/** One row of the lifecycle table: a warm-up run of each, then `RUNS` runs of each in turn. */
async function lifecycleRow(world: Lifecycles, fresh: boolean, batch: number): Promise<void> {
  const collect = (): void => {
    if (fresh) gc();
  };
  world.floor(batch, 0);
  await world.repository(batch, 0); // warm-up
  await world.api(batch, 0); // warm-up
  const floors: Cost[] = [];
  const repositories: Cost[] = [];
  const apis: Cost[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const offset = run * LIFECYCLE_TASKS;
    collect();
    floors.push(world.floor(batch, offset));
    collect();
    repositories.push(await world.repository(batch, offset));
    collect();
    apis.push(await world.api(batch, offset));
  }
  await world.close();
  const alone = median(repositories.map((cost) => cost.cpu));
  const aloneRatio = median(repositories.map((cost, run) => cost.cpu / floors[run]!.cpu));
  const ratios = (of: keyof Cost): number[] => apis.map((api, run) => api[of] / floors[run]![of]);
  const cell = (of: keyof Cost): string =>
    `${us(median(floors.map((cost) => cost[of])))} | ` +
    (of === 'cpu' ? `${us(alone)} (${aloneRatio.toFixed(2)}) | ` : '') +
    `${us(median(apis.map((cost) => cost[of])))} | ` +
    `**${median(ratios(of)).toFixed(2)}** (${ratios(of)
      .map((ratio) => ratio.toFixed(2))
      .join(' ')})`;
  console.log(`| ${batch} | ${cell('cpu')} | ${cell('wall')} |`);
}

async function wakeTable(): Promise<void> {
  console.log(`\n## Long-poll wake-up (create → the waiting fetch resolves), ${WAKE_SAMPLES} samples\n`);
  console.log('| waiters | p50 µs | p99 µs |');
  console.log('| ---: | ---: | ---: |');
  for (const waiters of [1, 100]) {
    const latencies = await wakeUp(waiters);
    console.log(
      `| ${waiters} | **${percentile(latencies, 50).toFixed(1)}** | ${percentile(latencies, 99).toFixed(1)} |`,
    );
  }
}

async function memoryTable(): Promise<void> {
  console.log('\n## Bytes per pending task (payload null, ids given by the engine excluded)\n');
  for (const count of MEMORY_SIZES) {
    const { total, unindexed, parts, queries } = await memory(count);
    console.log(
      `${count.toLocaleString('en-US')} tasks: **${total.toFixed(0)} bytes per task** ` +
        `(${unindexed.toFixed(0)} before a query built the indexes)`,
    );
    for (const [name, bytes] of parts) console.log(`  ${name}: ${bytes.toFixed(0)}`);
    console.log(`  query µs: ${queries.map(([name, us]) => `${name} ${us.toFixed(2)}`).join(', ')}`);
  }
}

await main();
