import type { ExternalTask } from '../../lib/model/index.js';
import type { ExternalTaskChange } from '../../lib/repository/index.js';
import { LockLedger } from '../postgres/processes/lock-ledger.js';
import { processLifeOf, type HandlerLine, type OutcomeLine } from './crash-records.js';

/** What a round of the crash loop left to check: the store, the feed, and every process's journal. */
export interface RoundEvidence {
  /** The lock duration every worker fetched and extended with, in ms. */
  readonly lockMs: number;
  /** The tasks whose creation the store acknowledged to the test (id → idempotency key). */
  readonly created: ReadonlyMap<string, string>;
  /** Every change the test's own subscriber (from position 0, across every fault) was handed. */
  readonly changes: readonly ExternalTaskChange[];
  /** The store's current position. */
  readonly end: number;
  /** Every task of the topic, as the store holds it now. */
  readonly stored: readonly ExternalTask[];
  /** Every line of every worker process's handler log. */
  readonly handlerLines: readonly HandlerLine[];
  /** The engine's outcome journal, across all its lives. */
  readonly outcomeLines: readonly OutcomeLine[];
  /** The worker process lives that were SIGKILLed (`p<process>.l<life>`). */
  readonly killedLives: ReadonlySet<string>;
}

/** What the checks counted: the figures a report prints. */
export interface RoundFigures {
  locks: number;
  takeovers: number;
  extensions: number;
  handlerRuns: number;
  /** Tasks whose handler was running in a killed process and that another worker took over. */
  comebacks: number;
  reportsFailed: number;
  engineLives: number;
}

const finalStates = new Set(['finished', 'failed', 'cancelled']);

/** One handler run: a task, a worker, and the lock the worker's fetch answered. */
function runKey(task: string, worker: string, lock: number): string {
  return `${task}|${worker}|${lock}`;
}

/**
 * Checks the invariants of a crash round and answers the violations (none when it survived) and the
 * figures. Every check reads only what the store, its feed and the processes' journals hold.
 */
export function checkRound(evidence: RoundEvidence): { violations: string[]; figures: RoundFigures } {
  const violations: string[] = [];
  const ledger = checkFeed(evidence, violations);
  checkTasks(evidence, ledger, violations);
  const { comebacks, reportsFailed } = checkHandlerRuns(evidence, ledger, violations);
  const engineLives = checkOutcomeJournal(evidence, violations);
  return {
    violations,
    figures: {
      locks: ledger.locks,
      takeovers: ledger.takeovers,
      extensions: ledger.extensions,
      handlerRuns: evidence.handlerLines.filter((line) => line.e === 'start').length,
      comebacks,
      reportsFailed,
      engineLives,
    },
  };
}

/** The feed is gap-free (positions 1…end, each change once, in order) and no two locks overlapped. */
function checkFeed({ changes, end, lockMs }: RoundEvidence, violations: string[]): LockLedger {
  const wrong = changes.findIndex((change, index) => change.position !== index + 1);
  if (wrong !== -1 || changes.length !== end) {
    violations.push(
      `the feed is not positions 1…${end}, each once: ${changes.length} changes delivered` +
        (wrong === -1 ? '' : `, the ${wrong + 1}th at position ${changes[wrong]!.position}`),
    );
  }
  const ledger = new LockLedger(lockMs);
  for (const change of changes) ledger.apply(change);
  violations.push(...ledger.violations.slice(0, 10));
  return ledger;
}

/** Every acknowledged create is stored, once; every task has exactly one outcome, as the store says. */
function checkTasks({ created, stored }: RoundEvidence, ledger: LockLedger, violations: string[]): void {
  const storedIds = new Set(stored.map((task) => task.id));
  const lost = [...created.keys()].filter((id) => !storedIds.has(id));
  if (lost.length > 0)
    violations.push(`${lost.length} acknowledged tasks are not in the store: ${lost.slice(0, 5).join(', ')}`);
  if (stored.length !== created.size) {
    violations.push(`the store holds ${stored.length} tasks; ${created.size} were created`);
  }
  const keys = new Set(stored.map((task) => task.idempotencyKey));
  if (keys.size !== stored.length)
    violations.push(`${stored.length - keys.size} idempotency keys are stored twice`);
  for (const task of stored) {
    const outcomes = ledger.outcomes.get(task.id) ?? [];
    if (!finalStates.has(task.state) || outcomes.length !== 1) {
      violations.push(`${task.id}: state ${task.state} with ${outcomes.length} outcome changes in the feed`);
      continue;
    }
    const [outcome] = outcomes;
    if (outcome!.type !== task.state || outcome!.task.workerId !== task.workerId) {
      violations.push(
        `${task.id}: the store says ${task.state} by ${task.workerId}, ` +
          `the feed ${outcome!.type} by ${outcome!.task.workerId}`,
      );
    }
  }
}

/**
 * What the handler logs say against the feed: every handler ran under a lock the store granted; a run
 * that took a task over started after the previous holder's lock had expired; at most one run of a task
 * had its outcome acknowledged, and that is the task's outcome; every task whose handler was running in
 * a killed process came back to another worker.
 */
function checkHandlerRuns(
  { changes, handlerLines, killedLives }: RoundEvidence,
  ledger: LockLedger,
  violations: string[],
): { comebacks: number; reportsFailed: number } {
  const granted = new Set<string>();
  /** Per run that took a task over: the expiry of the lock it took over. */
  const tookOverFrom = new Map<string, { worker: string; expiry: number }>();
  const takenOver = new Set<string>(); // task|worker of every lock that expired and was taken over
  const holds = new Map<string, { worker: string; expiry: number }>();
  for (const change of changes) {
    const { task } = change;
    const expiry = task.lockExpirationTime?.getTime();
    if (change.type === 'locked' && expiry !== undefined) {
      const key = runKey(task.id, task.workerId!, expiry);
      granted.add(key);
      const previous = holds.get(task.id);
      if (previous) tookOverFrom.set(key, previous);
      holds.set(task.id, { worker: task.workerId!, expiry });
    } else if (change.type === 'extended' && expiry !== undefined) {
      holds.set(task.id, { worker: task.workerId!, expiry });
    } else if (change.type === 'lockExpired') {
      takenOver.add(`${task.id}|${task.workerId}`);
    }
  }

  const starts = new Map<string, HandlerLine>();
  const ended = new Set<string>(); // runs whose handler settled
  const reported = new Map<string, string[]>(); // task → workers whose report was acknowledged
  let reportsFailed = 0;
  for (const line of handlerLines) {
    if (line.e === 'start') {
      const key = runKey(line.task, line.worker, line.lock);
      starts.set(key, line);
      if (!granted.has(key))
        violations.push(`${line.task}: ${line.worker} ran its handler without a granted lock`);
      const previous = tookOverFrom.get(key);
      if (previous && line.at < previous.expiry) {
        violations.push(
          `${line.task}: ${line.worker}'s handler started at ${line.at}, while ${previous.worker}'s lock ` +
            `held until ${previous.expiry}`,
        );
      }
    } else if (line.e === 'end') {
      ended.add(runKey(line.task, line.worker, line.lock));
    } else if (line.e === 'reported') {
      reported.set(line.task, [...(reported.get(line.task) ?? []), line.worker]);
    } else {
      reportsFailed++;
    }
  }
  for (const [task, workers] of reported) {
    const outcome = ledger.outcomes.get(task)?.[0];
    if (workers.length > 1 || outcome?.task.workerId !== workers[0]) {
      violations.push(
        `${task}: outcomes acknowledged to ${workers.join(', ')}; the outcome is by ${outcome?.task.workerId}`,
      );
    }
  }

  let comebacks = 0;
  for (const [key, line] of starts) {
    if (!killedLives.has(processLifeOf(line.worker)) || ended.has(key)) continue;
    // Killed while its handler ran: the task must have come back to a worker after its lock expired.
    if (takenOver.has(`${line.task}|${line.worker}`)) comebacks++;
    else violations.push(`${line.task}: its handler was killed in ${line.worker}, and it never came back`);
  }
  return { comebacks, reportsFailed };
}

/**
 * The engine handled every outcome of the feed exactly once, in feed order, across all its restarts.
 * Answers how many lives of the engine handled outcomes.
 */
function checkOutcomeJournal({ changes, outcomeLines }: RoundEvidence, violations: string[]): number {
  const outcomes = changes.filter((change) => finalStates.has(change.type));
  const handled = new Map<string, number[]>();
  for (const line of outcomeLines) handled.set(line.task, [...(handled.get(line.task) ?? []), line.position]);
  const twice = [...handled].filter(([, positions]) => positions.length > 1);
  if (twice.length > 0) {
    violations.push(
      `the engine handled ${twice.length} outcomes more than once: ` +
        twice
          .slice(0, 3)
          .map(([task, positions]) => `${task} at ${positions.join(', ')}`)
          .join('; '),
    );
  }
  const disorder = outcomeLines.findIndex(
    (line, i) => i > 0 && line.position <= outcomeLines[i - 1]!.position,
  );
  if (disorder !== -1) violations.push(`the engine's outcomes go back at line ${disorder + 1}`);
  const missed = outcomes.filter((change) => !handled.get(change.task.id)?.includes(change.position));
  if (missed.length > 0 || outcomeLines.length !== outcomes.length) {
    violations.push(
      `the engine handled ${outcomeLines.length} outcomes of ${outcomes.length}; missed: ` +
        missed
          .slice(0, 5)
          .map((change) => `${change.task.id} at ${change.position}`)
          .join(', '),
    );
  }
  return new Set(outcomeLines.map((line) => line.life)).size;
}
