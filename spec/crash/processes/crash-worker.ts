/**
 * One worker process of the crash loop on PostgreSQL (`spec/crash/server-crash-loop.ts`): its own store
 * and api on the test's schema and several `ExternalTaskWorker`s with short locks, each handler run logged
 * (start, end, reported or not) to an append-only journal, so that what a run did is known even when the
 * process is killed in the middle of it. The test kills it with SIGKILL; nothing here stops gracefully.
 *
 * Handlers: most return at once, a good share run for longer than the lock (kept by the worker's lock
 * extension), some throw a BPMN error or fail with a service error (no retries: the task fails).
 *
 * Run: node --import tsx spec/crash/processes/crash-worker.ts <url> <schema> <topic> <process> <life> <workers> <concurrency> <lockMs> <log>
 * (with an IPC channel: sends `{ type: 'ready' }` once its workers run; exits when the parent goes away).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { BpmnError, ExternalTaskApi, ExternalTaskWorker, type ExternalTask } from '../../../lib/index.js';
import { PostgresExternalTaskRepository } from '../../../lib/postgres/index.js';
import { quietLogger } from '../../postgres/support.js';
import { workerIdOf, type HandlerLine, type ReadyMessage } from '../crash-records.js';
import { Journal } from '../journal.js';

const [url, schema, topic, processArg, lifeArg, workersArg, concurrencyArg, lockArg, logPath] =
  process.argv.slice(2);
if (!url || !schema || !topic || !processArg || !lifeArg || !workersArg || !concurrencyArg || !lockArg) {
  console.error(
    'usage: crash-worker.ts <url> <schema> <topic> <process> <life> <workers> <concurrency> <lockMs> <log>',
  );
  process.exit(2);
}
if (!logPath || !process.send) throw new Error('crash-worker.ts needs a log path and an IPC channel');
const processIndex = Number(processArg);
const life = Number(lifeArg);
const lockMs = Number(lockArg);
const log = new Journal<HandlerLine>(logPath);

const repository = new PostgresExternalTaskRepository(
  { connectionString: url },
  {
    schema,
    logger: quietLogger(),
    poolSize: Number(workersArg) + 2,
    applicationName: `et-crash-p${processIndex}`,
    safetyRecheckMs: 500,
  },
);
const api = new ExternalTaskApi({ repository, logger: quietLogger() });

const between = (low: number, high: number): number => low + Math.floor(Math.random() * (high - low));

async function handle(worker: string, task: ExternalTask, signal: AbortSignal): Promise<{ by: string }> {
  const run = { task: task.id, worker, lock: task.lockExpirationTime!.getTime() };
  log.append({ e: 'start', ...run, at: Date.now() });
  const draw = Math.random();
  try {
    // A long run crosses several lock extensions, and a kill or a server restart is likely to catch it.
    await delay(draw < 0.25 ? between(lockMs * 0.6, lockMs * 2.5) : between(0, 40), undefined, { signal });
  } catch (error) {
    log.append({ e: 'end', ...run, at: Date.now(), how: 'aborted' });
    throw error;
  }
  if (draw > 0.9) {
    log.append({ e: 'end', ...run, at: Date.now(), how: 'threw' });
    if (draw > 0.95) throw new BpmnError('CRASH_TEST_REJECTED', `rejected by ${worker}`);
    throw new Error(`failed in ${worker}`);
  }
  log.append({ e: 'end', ...run, at: Date.now(), how: 'returned' });
  return { by: worker };
}

const started: Promise<void>[] = [];
for (let w = 0; w < Number(workersArg); w++) {
  const workerId = workerIdOf(processIndex, life, w);
  const worker = new ExternalTaskWorker(api, {
    topic,
    workerId,
    identity: { token: workerId },
    concurrency: Number(concurrencyArg),
    lockDuration: lockMs,
    longPollingTimeout: 2000,
    backoff: { initialDelay: 100, maxDelay: 1000 },
    logger: quietLogger(),
    handler: (task, { signal }) => handle(workerId, task, signal),
  });
  const line = (e: 'reported' | 'reportFailed', task: ExternalTask): HandlerLine => ({
    e,
    task: task.id,
    worker: workerId,
    lock: task.lockExpirationTime!.getTime(),
    at: Date.now(),
  });
  const reported = ({ task }: { task: ExternalTask }): void => log.append(line('reported', task));
  worker.events.on('worker:task:finished', reported);
  worker.events.on('worker:task:failed', reported);
  worker.events.on('worker:error', ({ context }) => {
    if (context.type === 'report') log.append(line('reportFailed', context.task));
  });
  started.push(worker.start());
}
await Promise.all(started);

// The parent went away (it was killed, or its run ended): do not linger as an orphan.
process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready' } satisfies ReadyMessage);
