/**
 * The cost of fetch-and-lock at n = 1,000 and n = 1,000,000 pending tasks, measured side by side in one
 * run, to check that claiming k tasks costs about O(k log n) and not a scan of n.
 *
 * Run with `npm run bench` (which is `tsx bench/fetch-cost.ts`). See docs/benchmarks.md.
 */
import os from 'node:os';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  ExternalTaskApi,
  InMemoryExternalTaskRepository,
  limits,
  type Clock,
  type ExternalTask,
  type TimerHandle,
} from '../lib/index.js';

const SIZES = [1_000, 1_000_000] as const;
const TOPIC = 'bench';
const OTHER_TOPICS = 10;
const WORKER = 'bench-worker';
const identity = { token: 'bench' };
/** Lock of the timed fetches: the manual clock never gets anywhere near it during a run. */
const LONG_LOCK = 24 * 60 * 60 * 1000;
/** Lock of the batches that are left to expire. */
const SHORT_LOCK = 1_000;
/** How many locks have expired when an "after expiry" fetch runs (the same at both sizes). */
const EXPIRED_BATCH = 500;
const WARMUP_ROUNDS = 2;
const ROUNDS = 20;

/** A clock whose time moves only when told; timers are never needed (every fetch has a 0 ms long poll). */
class ManualClock implements Clock {
  private current = Date.UTC(2026, 10, 25);
  timersScheduled = 0;

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    this.current += ms;
  }

  setTimeout(_callback: () => void, _delayMs: number): TimerHandle {
    return ++this.timersScheduled;
  }

  clearTimeout(_handle: TimerHandle): void {
    // nothing is ever scheduled for real
  }
}

/** A small seeded PRNG (mulberry32), so that both runs see the same priorities. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `global.gc` without a command-line flag (the npm script cannot pass one); a no-op if unavailable. */
function loadGc(): () => void {
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    if (typeof gc === 'function') return gc as () => void;
  } catch {
    // fall through
  }
  return () => undefined;
}
const gc = loadGc();

interface Fixture {
  readonly n: number;
  readonly clock: ManualClock;
  readonly repository: InMemoryExternalTaskRepository;
  readonly api: ExternalTaskApi;
  /** Ids of the tasks created while filling (for getById). */
  readonly ids: string[];
  readonly random: () => number;
  readonly fillSeconds: number;
  readonly heapBytes: number;
  readonly tasksCreated: number;
  /** Tasks finished and replaced by the samples; finished tasks stay in the store's task map. */
  replaced: number;
}

function createTask(repository: InMemoryExternalTaskRepository, topic: string, priority: number) {
  return repository.create({
    topic,
    correlationId: 'c',
    processInstanceId: 'pi',
    flowNodeInstanceId: 'fni',
    payload: null,
    priority,
  });
}

/**
 * n available tasks on `bench` (priorities 0-9), plus n/10 tasks on `bench` that another worker holds
 * for the whole run, plus n/10 tasks spread over 10 other topics.
 */
async function buildFixture(n: number): Promise<Fixture> {
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const started = process.hrtime.bigint();
  const clock = new ManualClock();
  const repository = new InMemoryExternalTaskRepository({ clock });
  const random = seededRandom(n);
  const ids: string[] = [];
  const held = n / 10;
  // Priority 10 puts them first, so the claim below locks exactly these.
  for (let i = 0; i < held; i++) ids.push((await createTask(repository, TOPIC, 10)).id);
  const locked = await repository.claim({
    workerId: 'holder',
    topics: [{ topicName: TOPIC, lockDuration: limits.maxDuration }],
    maxTasks: held,
  });
  if (locked.length !== held) throw new Error(`expected ${held} held tasks, got ${locked.length}`);
  for (let i = 0; i < n; i++) {
    ids.push((await createTask(repository, TOPIC, Math.floor(random() * 10))).id);
  }
  for (let i = 0; i < n / 10; i++) {
    const topic = `other-${i % OTHER_TOPICS}`;
    ids.push((await createTask(repository, topic, Math.floor(random() * 10))).id);
  }
  const api = new ExternalTaskApi({ repository, clock });
  const fillSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  gc();
  const heapBytes = process.memoryUsage().heapUsed - heapBefore;
  return {
    n,
    clock,
    repository,
    api,
    ids,
    random,
    fillSeconds,
    heapBytes,
    tasksCreated: ids.length,
    replaced: 0,
  };
}

/** Timed part of one sample: `ns` for `ops` operations. */
interface Sample {
  readonly ns: number;
  readonly ops: number;
}

function elapsed(start: bigint): number {
  return Number(process.hrtime.bigint() - start);
}

/**
 * Untimed: finishes the tasks a sample claimed and creates as many new ones on `bench`, so the number of
 * available tasks is back to n before the next sample.
 */
async function replace(f: Fixture, claimed: readonly ExternalTask[]): Promise<void> {
  for (const task of claimed) {
    const written = await f.repository.complete({
      externalTaskId: task.id,
      workerId: WORKER,
      outcome: { state: 'finished' },
    });
    if (written.status !== 'ok') throw new Error(`could not finish ${task.id}: ${written.status}`);
    await createTask(f.repository, TOPIC, Math.floor(f.random() * 10));
    f.replaced++;
  }
}

function checkBatches(batches: readonly ExternalTask[][], maxTasks: number): ExternalTask[] {
  for (const tasks of batches) {
    if (tasks.length !== maxTasks || tasks.some((task) => task.topic !== TOPIC)) {
      throw new Error(`a fetch of ${maxTasks} returned ${tasks.length} tasks`);
    }
  }
  return batches.flat();
}

/** `reps` fetches through the facade, timed together. */
async function apiFetch(f: Fixture, maxTasks: number, reps: number): Promise<Sample> {
  const batches = new Array<ExternalTask[]>(reps);
  const start = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) {
    batches[i] = await f.api.fetchAndLockExternalTasks(identity, WORKER, TOPIC, maxTasks, 0, LONG_LOCK);
  }
  const ns = elapsed(start);
  await replace(f, checkBatches(batches, maxTasks));
  return { ns, ops: reps };
}

/** `reps` claims straight on the repository (no access check, validation or events), timed together. */
async function repositoryClaim(f: Fixture, maxTasks: number, reps: number): Promise<Sample> {
  const request = { workerId: WORKER, topics: [{ topicName: TOPIC, lockDuration: LONG_LOCK }], maxTasks };
  const batches = new Array<ExternalTask[]>(reps);
  const start = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) batches[i] = await f.repository.claim(request);
  const ns = elapsed(start);
  await replace(f, checkBatches(batches, maxTasks));
  return { ns, ops: reps };
}

/**
 * Untimed: another worker locks EXPIRED_BATCH tasks for SHORT_LOCK ms and the clock moves past it.
 * Timed: one fetch, which first moves the expired tasks back to the available queue.
 */
async function fetchAfterExpiry(f: Fixture, maxTasks: number): Promise<Sample> {
  const expiring = await f.repository.claim({
    workerId: 'short-lived',
    topics: [{ topicName: TOPIC, lockDuration: SHORT_LOCK }],
    maxTasks: EXPIRED_BATCH,
  });
  if (expiring.length !== EXPIRED_BATCH) throw new Error(`locked only ${expiring.length} tasks`);
  f.clock.advance(SHORT_LOCK);
  const start = process.hrtime.bigint();
  const tasks = await f.api.fetchAndLockExternalTasks(identity, WORKER, TOPIC, maxTasks, 0, LONG_LOCK);
  const ns = elapsed(start);
  const expiredIds = new Set(expiring.map((task) => task.id));
  if (!tasks.every((task) => expiredIds.has(task.id))) throw new Error('expected expired tasks first');
  await replace(f, checkBatches([tasks], maxTasks));
  return { ns, ops: 1 };
}

/** `reps` lookups of random ids, timed together. */
async function getById(f: Fixture, reps: number): Promise<Sample> {
  const ids = Array.from({ length: reps }, () => f.ids[Math.floor(f.random() * f.ids.length)] as string);
  const start = process.hrtime.bigint();
  let found = 0;
  for (const id of ids) if (await f.repository.getById(id)) found++;
  const ns = elapsed(start);
  if (found !== reps) throw new Error(`getById found ${found} of ${reps}`);
  return { ns, ops: reps };
}

interface Operation {
  readonly name: string;
  /** Tasks handed out per operation (for the per-task column); 0 for none. */
  readonly tasksPerOp: number;
  readonly samplesPerRound: number;
  readonly sample: (f: Fixture) => Promise<Sample>;
}

const operations: readonly Operation[] = [
  // First, before any sample finishes and creates tasks, so the task map has its filled size.
  {
    name: 'repository.getById (control, O(1))',
    tasksPerOp: 0,
    samplesPerRound: 5,
    sample: (f) => getById(f, 1_000),
  },
  { name: 'fetchAndLock maxTasks=1', tasksPerOp: 1, samplesPerRound: 10, sample: (f) => apiFetch(f, 1, 100) },
  {
    name: 'fetchAndLock maxTasks=100',
    tasksPerOp: 100,
    samplesPerRound: 20,
    sample: (f) => apiFetch(f, 100, 1),
  },
  {
    name: `fetchAndLock maxTasks=1, ${EXPIRED_BATCH} locks expired`,
    tasksPerOp: 1,
    samplesPerRound: 10,
    sample: (f) => fetchAfterExpiry(f, 1),
  },
  {
    name: `fetchAndLock maxTasks=100, ${EXPIRED_BATCH} locks expired`,
    tasksPerOp: 100,
    samplesPerRound: 20,
    sample: (f) => fetchAfterExpiry(f, 100),
  },
  {
    name: 'repository.claim maxTasks=1',
    tasksPerOp: 1,
    samplesPerRound: 10,
    sample: (f) => repositoryClaim(f, 1, 100),
  },
  {
    name: 'repository.claim maxTasks=100',
    tasksPerOp: 100,
    samplesPerRound: 20,
    sample: (f) => repositoryClaim(f, 100, 1),
  },
];

function quantile(sorted: readonly number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return (sorted[low] as number) + ((sorted[high] as number) - (sorted[low] as number)) * (position - low);
}

interface Stats {
  readonly median: number;
  readonly p25: number;
  readonly p75: number;
}

function stats(values: readonly number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: quantile(sorted, 0.5), p25: quantile(sorted, 0.25), p75: quantile(sorted, 0.75) };
}

/** ns per operation of every sample after the warm-up, per fixture; the fixtures alternate which goes first. */
async function measure(operation: Operation, fixtures: readonly Fixture[]): Promise<Stats[]> {
  gc();
  const perFixture = fixtures.map((): number[] => []);
  for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
    const order = fixtures.map((_, index) => index);
    if (round % 2 === 1) order.reverse();
    for (const index of order) {
      for (let s = 0; s < operation.samplesPerRound; s++) {
        const { ns, ops } = await operation.sample(fixtures[index] as Fixture);
        if (round >= WARMUP_ROUNDS) perFixture[index]?.push(ns / ops);
      }
    }
  }
  return perFixture.map(stats);
}

function micros(ns: number, digits = 2): string {
  return (ns / 1000).toFixed(digits);
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

async function main(): Promise<void> {
  const runStarted = process.hrtime.bigint();
  const cpus = os.cpus();
  console.log('# fetch-and-lock cost: n = 1,000 vs n = 1,000,000 pending tasks\n');
  console.log(`date:    ${new Date().toISOString()}`);
  console.log(`command: npm run bench   (tsx bench/fetch-cost.ts)`);
  console.log(`cpu:     ${cpus[0]?.model ?? 'unknown'}, ${cpus.length} cores`);
  console.log(`memory:  ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB total`);
  console.log(`os:      ${os.type()} ${os.release()} ${os.arch()}`);
  console.log(`node:    ${process.version}, heap limit ${mib(v8.getHeapStatistics().heap_size_limit)}\n`);

  const fixtures: Fixture[] = [];
  for (const n of SIZES) {
    const fixture = await buildFixture(n);
    fixtures.push(fixture);
    console.log(
      `filled n=${n.toLocaleString('en-US')}: ${fixture.tasksCreated.toLocaleString('en-US')} tasks in ` +
        `${fixture.fillSeconds.toFixed(1)} s, heap +${mib(fixture.heapBytes)} ` +
        `(${(fixture.heapBytes / fixture.tasksCreated).toFixed(0)} bytes/task)`,
    );
  }
  const [small, large] = fixtures as [Fixture, Fixture];
  console.log(
    `\nEach fixture: n available tasks on "${TOPIC}" (priorities 0-9), n/10 more on "${TOPIC}" locked by ` +
      `another worker, n/10 on ${OTHER_TOPICS} other topics. Median of ${ROUNDS} rounds of samples ` +
      `after ${WARMUP_ROUNDS} warm-up rounds.\n`,
  );

  const header =
    '| Operation | n=1,000 µs/op | n=1,000 µs/task | n=1,000,000 µs/op | n=1,000,000 µs/task | ratio (1M / 1k) |';
  const rows: string[] = [header, '| --- | ---: | ---: | ---: | ---: | ---: |'];
  const spreads: string[] = [];
  for (const operation of operations) {
    const [a, b] = (await measure(operation, fixtures)) as [Stats, Stats];
    const perTask = (s: Stats): string =>
      operation.tasksPerOp === 0 ? '–' : micros(s.median / operation.tasksPerOp, 3);
    rows.push(
      `| ${operation.name} | ${micros(a.median)} | ${perTask(a)} | ${micros(b.median)} | ${perTask(b)} | ` +
        `${(b.median / a.median).toFixed(2)} |`,
    );
    spreads.push(
      `  ${operation.name}: n=1k p25-p75 ${micros(a.p25)}-${micros(a.p75)} µs, ` +
        `n=1M p25-p75 ${micros(b.p25)}-${micros(b.p75)} µs`,
    );
  }
  console.log(rows.join('\n'));
  console.log(`\nSpread (interquartile range of the samples):\n${spreads.join('\n')}`);
  console.log(
    `\nFor reference: log2(1,000,000) / log2(1,000) = ${(Math.log2(1e6) / Math.log2(1e3)).toFixed(2)}; ` +
      'a full scan would give about 1000.',
  );

  gc();
  const memory = process.memoryUsage();
  const timers = small.clock.timersScheduled + large.clock.timersScheduled;
  console.log(
    `\nafter the run: heap used ${mib(memory.heapUsed)}, rss ${mib(memory.rss)}; ` +
      `timers scheduled: ${timers}.\n` +
      fixtures
        .map(
          (f) =>
            `n=${f.n.toLocaleString('en-US')}: ${f.replaced.toLocaleString('en-US')} tasks finished and ` +
            `replaced by the samples; the task map now holds ${(f.tasksCreated + f.replaced).toLocaleString('en-US')} ` +
            'tasks (finished tasks are kept), the queues still hold the same pending tasks.',
        )
        .join('\n'),
  );
  await small.api.close();
  await large.api.close();
  console.log(`total run time: ${(Number(process.hrtime.bigint() - runStarted) / 1e9).toFixed(1)} s`);
}

await main();
