/**
 * One run of the PostgreSQL store's task lifecycle for the benchmark: `count` tasks created (timed apart),
 * then 16 handlers that fetch `batch` tasks and finish each of them until none is left — through the API,
 * on the repository alone, or by `ExternalTaskWorker`s.
 */
import { walMark, walPerTask } from './wal-count.js';
import {
  ExternalTaskApi,
  ExternalTaskWorker,
  type ExternalTaskWorkerOptions,
  type NewExternalTask,
} from '../lib/index.js';
import type { PostgresExternalTaskRepository, PostgresConnection } from '../lib/postgres/index.js';
import {
  identity,
  LOCK_MS,
  openStore,
  seconds,
  silent,
  startPhase,
  throughput,
  type Throughput,
} from './support.js';

export const TOPIC = 'bench';
const HANDLERS = 16;
/** How long a run of the workers may take before it fails (it takes seconds). */
const RUN_LIMIT_MS = 120_000;

function newTasks(count: number, offset: number): NewExternalTask[] {
  return Array.from({ length: count }, (_, i) => ({
    topic: TOPIC,
    flowNodeInstanceId: `fni-${offset + i}`,
    correlationId: `c-${offset + i}`,
    processInstanceId: `pi-${offset + i}`,
    priority: (offset + i) % 3,
  }));
}

async function createAll(repository: PostgresExternalTaskRepository, count: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let done = 0; done < count; done += 1000) {
    await repository.createMany(newTasks(Math.min(1000, count - done), done));
  }
  return count / seconds(start);
}

/**
 * 16 handlers at once, each running `round` with its worker id until a round fetches nothing (`round`
 * answers how many tasks it finished, or `undefined` when it fetched none), timed; every one of `count`
 * tasks must have been finished.
 */
async function timedHandlers(
  count: number,
  round: (workerId: string) => Promise<number | undefined>,
): Promise<Throughput> {
  let finished = 0;
  const handler = async (worker: number): Promise<void> => {
    const workerId = `handler-${worker}`;
    for (;;) {
      const done = await round(workerId);
      if (done === undefined) return;
      finished += done;
    }
  };
  const phase = startPhase();
  await Promise.all(Array.from({ length: HANDLERS }, (_, worker) => handler(worker)));
  const timed = phase();
  if (finished !== count) throw new Error(`finished ${finished} of ${count} tasks`);
  return throughput(count, timed);
}

/**
 * One lifecycle run through the API: `count` tasks created (timed apart), then 16 handlers that fetch
 * `batch` tasks and finish each of them (all in flight at once), until no task is left. Answers tasks/s
 * of fetch-and-lock → finish with its CPU per task, and the creation's tasks/s.
 */
export async function lifecycleRun(
  connection: PostgresConnection,
  schema: string,
  count: number,
  batch: number,
  synchronousCommit = true,
): Promise<Throughput & { createdPerSecond: number }> {
  const repository = await openStore(connection, schema, synchronousCommit);
  const api = new ExternalTaskApi({ repository, logger: silent });
  try {
    const createdPerSecond = await createAll(repository, count);
    const measured = await timedHandlers(count, async (workerId) => {
      const tasks = await api.fetchAndLockExternalTasks(identity, workerId, TOPIC, batch, 0, LOCK_MS);
      if (tasks.length === 0) return undefined;
      await Promise.all(
        tasks.map((task) => api.finishExternalTask(identity, workerId, task.id, { ok: true })),
      );
      return tasks.length;
    });
    return { ...measured, createdPerSecond };
  } finally {
    await api.close();
    await repository.close();
  }
}

/**
 * The same lifecycle on the repository alone (no API in the process: no change feed delivered, no
 * long-poll dispatcher), to tell the adapter's cost from what the API and its feed add.
 */
export async function repositoryRun(
  connection: PostgresConnection,
  schema: string,
  count: number,
  batch: number,
): Promise<Throughput> {
  const repository = await openStore(connection, schema);
  try {
    await createAll(repository, count);
    const topics = [{ topicName: TOPIC, lockDuration: LOCK_MS }];
    return await timedHandlers(count, async (workerId) => {
      const tasks = await repository.claim({ workerId, topics, maxTasks: batch });
      if (tasks.length === 0) return undefined;
      const results = await Promise.all(
        tasks.map((task) =>
          repository.complete({
            externalTaskId: task.id,
            workerId,
            outcome: { state: 'finished', result: { ok: true } },
          }),
        ),
      );
      return results.filter((result) => result.status === 'ok').length;
    });
  } finally {
    await repository.close();
  }
}

/**
 * How a run's tasks are worked on: `workers` ExternalTaskWorkers on one API, each with `options`, on a
 * store with `finalTaskRetention` (its default when left out).
 */
export interface WorkerDeployment {
  readonly workers: number;
  readonly finalTaskRetention?: number;
  readonly options: Pick<
    ExternalTaskWorkerOptions,
    'concurrency' | 'maxTasks' | 'bufferSize' | 'maxBufferWait' | 'refillThreshold'
  >;
}

/**
 * The same lifecycle as a deployment runs it: `deployment.workers` `ExternalTaskWorker`s on one API,
 * each with `deployment.options` and a handler that answers at once, timed from their start until the API
 * has announced the last `task:finished`. Unlike the handlers of {@link lifecycleRun}, each worker runs
 * its own fetching, lock keepers and events, and long-polls (10 s) when it finds nothing. Every task
 * must have run once and been announced finished once.
 */
export async function workerRun(
  connection: PostgresConnection,
  schema: string,
  count: number,
  deployment: WorkerDeployment,
): Promise<Throughput> {
  const repository = await openStore(connection, schema, true, deployment.finalTaskRetention);
  const api = new ExternalTaskApi({ repository, logger: silent });
  const workers = Array.from(
    { length: deployment.workers },
    () =>
      new ExternalTaskWorker(api, {
        topic: TOPIC,
        identity,
        ...deployment.options,
        lockDuration: LOCK_MS,
        longPollingTimeout: 10_000,
        logger: silent,
        handler: () => {
          ran++;
          return { ok: true };
        },
      }),
  );
  let ran = 0;
  try {
    await createAll(repository, count);
    const finished = new Set<string>();
    let announced = 0;
    let timer: NodeJS.Timeout | undefined;
    const allFinished = new Promise<void>((resolve, reject) => {
      api.events.on('task:finished', ({ task }) => {
        announced++;
        if (finished.add(task.id).size === count) resolve();
      });
      // A run that cannot end ends with its reason, rather than waiting for finishes that never come.
      const fail = (what: string, error?: unknown): void =>
        reject(new Error(`a worker ${what}`, { cause: error }));
      for (const worker of workers) {
        worker.events.on('worker:fetchFailed', ({ error }) => fail('failed to fetch', error));
        worker.events.on('worker:error', ({ error }) => fail('failed', error));
        worker.events.on('worker:task:failed', ({ error }) => fail('failed a task', error));
        worker.events.on('worker:task:aborted', ({ reason }) => fail('aborted a task', reason));
      }
      timer = setTimeout(() => fail(`run took over ${RUN_LIMIT_MS} ms`), RUN_LIMIT_MS);
    });
    const server = 'connectionString' in connection ? connection.connectionString : undefined;
    const mark = server === undefined ? undefined : await walMark(server);
    const phase = startPhase();
    for (const worker of workers) await worker.start();
    await allFinished.finally(() => clearTimeout(timer));
    const timed = phase();
    await Promise.all(workers.map((worker) => worker.stop()));
    if (ran !== count || announced !== count) {
      throw new Error(
        `the handlers ran ${ran} times and ${announced} finishes were announced for ${count} tasks`,
      );
    }
    const wal = mark === undefined ? undefined : await walPerTask(server!, schema, mark, count);
    return { ...throughput(count, timed), wal };
  } finally {
    await Promise.all(workers.map((worker) => worker.stop()));
    await api.close();
    await repository.close();
  }
}
