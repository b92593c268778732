/**
 * The task lifecycle (create → fetch-and-lock → finish) with 16 handlers in flight, through an
 * `ExternalTaskWorker` on the in-process api and on an `HttpExternalTaskClient` talking to
 * `createHttpHandler` on 127.0.0.1, in the same run; and the wake-up latency of a long poll over HTTP
 * (and in process, for comparison).
 *
 * Run with `npm run bench:http` (`tsx bench/http-lifecycle.ts`; `--quick` for a short try). See
 * docs/benchmarks.md.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import {
  ExternalTaskApi,
  ExternalTaskWorker,
  InMemoryExternalTaskRepository,
  type ExternalTaskService,
  type NewExternalTask,
} from '../lib/index.js';
import { createHttpHandler, HttpExternalTaskClient } from '../lib/http/index.js';

const quick = process.argv.includes('--quick');
const HANDLERS = 16;
const TASKS = quick ? 1000 : 4000;
const RUNS = quick ? 1 : 3;
const WAKE_SAMPLES = quick ? 20 : 100;
/** Real ms between starting a poll and creating the task that wakes it (the poll is waiting by then). */
const WAKE_ARM_MS = 20;
const TOPIC = 'bench';
const identity = { token: 'bench' };
const silent = { error: () => undefined, warn: () => undefined };

const median = (values: readonly number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};
const milliseconds = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;

function newTasks(count: number): NewExternalTask[] {
  return Array.from({ length: count }, (_, i) => ({
    topic: TOPIC,
    flowNodeInstanceId: `fni-${i}`,
    correlationId: `c-${i}`,
    processInstanceId: `pi-${i}`,
    payload: { n: i },
  }));
}

/** An engine, and the service its workers use: the api itself, or a client of it over HTTP. */
interface Stack {
  readonly repository: InMemoryExternalTaskRepository;
  readonly api: ExternalTaskApi;
  readonly service: ExternalTaskService;
  readonly close: () => Promise<void>;
}

async function stack(transport: 'in process' | 'HTTP'): Promise<Stack> {
  const repository = new InMemoryExternalTaskRepository({ logger: silent });
  const api = new ExternalTaskApi({ repository, logger: silent });
  if (transport === 'in process') return { repository, api, service: api, close: () => api.close() };
  const server = http.createServer(createHttpHandler(api, { logger: silent, allowAnyToken: true }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/external_task/v1`;
  return {
    repository,
    api,
    service: new HttpExternalTaskClient({ baseUrl, token: identity.token }),
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await api.close();
    },
  };
}

/** Tasks per second from creating `TASKS` tasks to hearing the last one finished. */
async function lifecycle(transport: 'in process' | 'HTTP'): Promise<number> {
  const { repository, api, service, close } = await stack(transport);
  const worker = new ExternalTaskWorker(service, {
    topic: TOPIC,
    identity,
    concurrency: HANDLERS,
    longPollingTimeout: 10_000,
    logger: silent,
    handler: (task) => ({ done: (task.payload as { n: number }).n }),
  });
  await worker.start();
  let finished = 0;
  const allFinished = new Promise<void>((resolve) =>
    api.events.on('task:finished', () => {
      if (++finished === TASKS) resolve();
    }),
  );
  const start = process.hrtime.bigint();
  const tasks = newTasks(TASKS);
  // createMany takes up to 1,000 tasks at once.
  for (let i = 0; i < TASKS; i += 1000) await repository.createMany(tasks.slice(i, i + 1000));
  await allFinished;
  const rate = TASKS / (milliseconds(start) / 1000);
  await worker.stop();
  await close();
  return rate;
}

/** Ms from creating a task to a waiting long poll receiving it. */
async function wakeUps(transport: 'in process' | 'HTTP'): Promise<number[]> {
  const { repository, service, close } = await stack(transport);
  const samples: number[] = [];
  for (let i = 0; i < WAKE_SAMPLES; i++) {
    const poll = service.fetchAndLockExternalTasks(identity, 'waiter', TOPIC, 1, 10_000, 60_000);
    await new Promise((resolve) => setTimeout(resolve, WAKE_ARM_MS));
    const start = process.hrtime.bigint();
    const [created] = await repository.createMany(newTasks(1));
    const [task] = await poll;
    samples.push(milliseconds(start));
    if (task?.id !== created?.id) throw new Error('the poll received another task than the one created');
    await service.finishExternalTask(identity, 'waiter', task!.id, null);
  }
  await close();
  return samples;
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(
  `${new Date().toISOString().slice(0, 10)} · ${os.type()} ${os.release()} ${os.arch()} · ${cpu} · ${os.cpus().length} cores · Node ${process.version}`,
);
console.log(`${TASKS} tasks per run, ${HANDLERS} handlers in flight, ${RUNS} runs each, alternating`);

const rates: Record<'in process' | 'HTTP', number[]> = { 'in process': [], HTTP: [] };
await lifecycle('in process'); // warm-up
await lifecycle('HTTP');
for (let run = 0; run < RUNS; run++) {
  for (const transport of run % 2 ? (['HTTP', 'in process'] as const) : (['in process', 'HTTP'] as const)) {
    rates[transport].push(await lifecycle(transport));
  }
}
const inProcess = median(rates['in process']);
const overHttp = median(rates.HTTP);
console.log(
  `lifecycle in process: ${inProcess.toFixed(0)} tasks/s (runs: ${rates['in process'].map((r) => r.toFixed(0)).join(', ')})`,
);
console.log(
  `lifecycle over HTTP:  ${overHttp.toFixed(0)} tasks/s (runs: ${rates.HTTP.map((r) => r.toFixed(0)).join(', ')})`,
);
console.log(`ratio in process / HTTP: ${(inProcess / overHttp).toFixed(1)}`);
for (const transport of ['in process', 'HTTP'] as const) {
  const samples = await wakeUps(transport);
  console.log(
    `long-poll wake-up ${transport}: median ${median(samples).toFixed(2)} ms, p95 ${percentile(samples, 95).toFixed(2)} ms (${samples.length} samples)`,
  );
}
