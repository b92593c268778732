/**
 * One OS process of the multi-process stress test (`spec/postgres/multi-process.spec.ts`): its own
 * `PostgresExternalTaskRepository` and `ExternalTaskApi` on the test's schema, and several raw
 * fetch-and-lock loops (not `ExternalTaskWorker`, whose lock extension would hide the expiries).
 *
 * Each task a loop locks gets a handler time drawn at random: most are short, a good share run past the
 * lock so that it expires mid-flight and another worker takes the task over, and some extend the lock
 * once. A report (or an extension) refused with 423 or 410 is counted, never retried.
 *
 * Run: node --import tsx spec/postgres/processes/stress-worker.ts <url> <schema> <process> <workers> <topic> <lockMs>
 *
 * IPC with the parent: sends `{ type: 'ready' }` once its loops run, stops on `{ type: 'stop' }` (or
 * when the parent goes away), then sends `{ type: 'summary', … }` and exits.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { ExternalTaskApi, GoneError, LockedError, type ExternalTask } from '../../../lib/index.js';
import type { Logger } from '../../../lib/logging/index.js';
import { PostgresExternalTaskRepository } from '../../../lib/postgres/index.js';
import type { StressSummary } from './stress-messages.js';

const [url, schema, processArg, workersArg, topicName, lockArg] = process.argv.slice(2);
if (!url || !schema || !processArg || !workersArg || !topicName || !lockArg || !process.send) {
  console.error('usage: stress-worker.ts <url> <schema> <process> <workers> <topic> <lockMs> (with IPC)');
  process.exit(2);
}
const send = process.send.bind(process);
const processIndex = Number(processArg);
const workers = Number(workersArg);
const lockMs = Number(lockArg);
const identity = { token: `stress-${processIndex}` };

const summary: StressSummary = {
  type: 'summary',
  processIndex,
  claims: 0,
  reports: 0,
  extensions: 0,
  refusedLocked: 0,
  refusedGone: 0,
  unexpected: [],
};
const unexpected = (what: string, error: unknown): void => {
  summary.unexpected.push(
    `${what}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
  );
};
const logger: Logger = {
  error: (message, context) => unexpected(`logged error ${message}`, context?.error),
  warn: (message, context) => unexpected(`logged warning ${message}`, context?.error),
};

const repository = new PostgresExternalTaskRepository(
  { connectionString: url },
  {
    schema,
    logger,
    poolSize: workers + 2,
    applicationName: `et-stress-${processIndex}`,
    changesRetained: 10_000_000,
  },
);
const api = new ExternalTaskApi({ repository, logger });
const stopping = new AbortController();

/** What one attempt on a task does: how long it works, whether it extends its lock, how it ends. */
interface Plan {
  readonly workMs: number;
  readonly extendAfterMs: number | undefined;
  readonly outcome: 'finish' | 'bpmn' | 'service';
}

function drawPlan(): Plan {
  const between = (low: number, high: number): number => low + Math.floor(Math.random() * (high - low));
  const kind = Math.random();
  const outcomeDraw = Math.random();
  const outcome = outcomeDraw < 0.8 ? 'finish' : outcomeDraw < 0.92 ? 'bpmn' : 'service';
  if (kind < 0.12) return { workMs: between(lockMs + 40, lockMs * 1.6), extendAfterMs: undefined, outcome };
  if (kind < 0.2) {
    // Extends at about half of the lock, then works on for less than the new lock.
    return { workMs: between(0, lockMs / 2), extendAfterMs: between(lockMs / 3, lockMs / 2), outcome };
  }
  return { workMs: between(0, 30), extendAfterMs: undefined, outcome };
}

/** Counts a 423 or a 410 (the attempt ends there, never retried); anything else is unexpected. */
function refused(what: string, error: unknown): void {
  if (error instanceof LockedError) summary.refusedLocked++;
  else if (error instanceof GoneError) summary.refusedGone++;
  else unexpected(what, error);
}

async function work(workerId: string, task: ExternalTask): Promise<void> {
  const plan = drawPlan();
  if (plan.extendAfterMs !== undefined) {
    await delay(plan.extendAfterMs);
    try {
      await api.extendLock(identity, workerId, task.id, lockMs);
      summary.extensions++;
    } catch (error) {
      refused('extendLock', error);
      return;
    }
  }
  await delay(plan.workMs);
  try {
    if (plan.outcome === 'finish') {
      await api.finishExternalTask(identity, workerId, task.id, { by: workerId });
    } else if (plan.outcome === 'bpmn') {
      await api.handleBpmnError(identity, workerId, task.id, 'REJECTED', `rejected by ${workerId}`);
    } else {
      await api.handleServiceError(identity, workerId, task.id, `failed in ${workerId}`);
    }
    summary.reports++;
  } catch (error) {
    refused('report', error);
  }
}

async function loop(workerId: string): Promise<void> {
  const signal = stopping.signal;
  while (!signal.aborted) {
    let tasks: ExternalTask[];
    try {
      tasks = await api.fetchAndLock(identity, {
        workerId,
        topics: [{ topicName: topicName!, lockDuration: lockMs }],
        maxTasks: 1 + Math.floor(Math.random() * 3),
        longPollingTimeout: 1000,
        signal,
      });
    } catch (error) {
      unexpected('fetchAndLock', error);
      await delay(100);
      continue;
    }
    summary.claims += tasks.length;
    await Promise.all(tasks.map((task) => work(workerId, task)));
  }
}

let stopped: Promise<void> | undefined;
function stop(): Promise<void> {
  stopped ??= (async () => {
    stopping.abort();
    await loops;
    await api.close();
    await repository.close();
  })();
  return stopped;
}

// Several processes migrate at once on purpose: `migrate()` must be safe under that.
await repository.migrate();
const loops = Promise.all(Array.from({ length: workers }, (_, i) => loop(`p${processIndex}-w${i}`)));
process.on('message', (message: { type?: string }) => {
  if (message?.type !== 'stop') return;
  void stop().then(
    () => send(summary, () => process.disconnect()),
    (error: unknown) => {
      unexpected('stop', error);
      send(summary, () => process.disconnect());
    },
  );
});
// The parent went away without asking: stop anyway rather than linger as an orphan.
process.on('disconnect', () => void stop().finally(() => process.exit(0)));
send({ type: 'ready', processIndex });
