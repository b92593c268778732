import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { PGlite } from '@electric-sql/pglite';
import type { ExternalTask } from '../../lib/model/index.js';
import { PostgresExternalTaskRepository } from '../../lib/postgres/index.js';
import type { ExternalTaskChange } from '../../lib/repository/index.js';
import { eventually } from '../postgres/faults/backends.js';
import { ChildScript } from '../postgres/processes/child-script.js';
import { quietLogger } from '../postgres/support.js';
import type { ReadyMessage, WriteLine } from './crash-records.js';
import { readLines } from './journal.js';

/** The size of a kill loop on PGlite. */
export interface PgliteKillOptions {
  readonly kills: number;
  /** Where progress lines go. */
  readonly print: (line: string) => void;
}

/** What a kill loop came to. */
export interface PgliteKillResult {
  readonly killsSurvived: number;
  /** Empty when every reopening held every acknowledged write; else what the failing one lacked. */
  readonly violations: readonly string[];
  /** Kills that landed while a write was under way (begun, not yet acknowledged). */
  readonly midWrite: number;
  readonly tasks: number;
  readonly outcomes: number;
  readonly seconds: number;
}

const writer = 'spec/crash/processes/pglite-writer.ts';

/**
 * The kill loop on PGlite: a process writes to a PGlite data directory without pause and is SIGKILLed
 * at a random moment; the directory is opened again and must hold every write acknowledged before the
 * kill (`checkReopened`); the next life of the process writes on in it. Stops at the first reopening
 * that lacks something. The data directory is removed before it answers.
 */
export async function runPgliteKillLoop(options: PgliteKillOptions): Promise<PgliteKillResult> {
  const startedAt = Date.now();
  const directory = mkdtempSync(join(tmpdir(), 'et-crash-pglite-'));
  const journal = join(directory, 'writes.jsonl');
  let midWrite = 0;
  let last: Reopened | undefined;
  try {
    for (let kill = 1; kill <= options.kills; kill++) {
      const child = new ChildScript<ReadyMessage>(`PGlite writer life ${kill}`, writer, [
        join(directory, 'data'),
        journal,
        String(kill),
      ]);
      try {
        await child.message('ready', 120_000);
        // A third of the kills come at any moment of the life (its first writes redo the crash recovery
        // and are slow); the others once it writes at full speed (after its first acknowledged write).
        if (kill % 3 !== 0) await firstAcknowledgement(journal, readLines<WriteLine>(journal, true).length);
        await delay(Math.floor(Math.random() * 2000));
      } finally {
        await child.kill();
      }
      const lines = readLines<WriteLine>(journal);
      const inFlight = lines.at(-1)?.op === 'begin';
      if (inFlight) midWrite++;
      last = await checkReopened(join(directory, 'data'), lines);
      options.print(
        `kill ${kill}: ${inFlight ? 'mid-write' : 'between writes'}; reopened with ${last.tasks} tasks, ` +
          `${last.outcomes} outcomes, ${last.end} changes` +
          (last.violations.length > 0 ? ' — FAILED' : ''),
      );
      if (last.violations.length > 0) {
        return { ...summary(kill - 1, last, midWrite, startedAt), violations: last.violations };
      }
    }
    return summary(options.kills, last, midWrite, startedAt);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/** Waits (bounded) until the journal, `before` lines long at the start, has an acknowledged write more. */
function firstAcknowledgement(journal: string, before: number): Promise<void> {
  return eventually(
    () =>
      readLines<WriteLine>(journal, true)
        .slice(before)
        .some((line) => line.op !== 'begin'),
    'the PGlite writer to acknowledge a write',
    30_000,
  );
}

function summary(
  killsSurvived: number,
  last: Reopened | undefined,
  midWrite: number,
  startedAt: number,
): PgliteKillResult {
  return {
    killsSurvived,
    violations: [],
    midWrite,
    tasks: last?.tasks ?? 0,
    outcomes: last?.outcomes ?? 0,
    seconds: (Date.now() - startedAt) / 1000,
  };
}

/** What a reopened data directory held, and what it lacked. */
interface Reopened {
  readonly violations: string[];
  readonly tasks: number;
  readonly outcomes: number;
  readonly end: number;
}

/**
 * Opens the data directory (the writer is dead) and checks it against the journal: every acknowledged
 * task, lock and outcome is there as acknowledged; nothing is there that was not written (at most the
 * write the kill interrupted, which may have committed); the feed reads back gap-free with a change
 * for each of them.
 */
async function checkReopened(dataDirectory: string, lines: readonly WriteLine[]): Promise<Reopened> {
  const pglite = await PGlite.create(dataDirectory);
  const repository = new PostgresExternalTaskRepository(
    { pglite },
    { schema: 'et_crash', logger: quietLogger() },
  );
  try {
    await repository.migrate();
    const stored = new Map<string, ExternalTask>();
    for (let offset = 0; ; offset += 1000) {
      const page = await repository.query({ limit: 1000, offset });
      for (const task of page.tasks) stored.set(task.id, task);
      if (page.tasks.length < 1000) break;
    }
    const changes = await readFeed(repository);
    const violations = [
      ...checkAcknowledged(lines, stored),
      ...checkNothingElse(lines, stored),
      ...checkFeed(lines, changes),
    ];
    const outcomes = [...stored.values()].filter((task) => task.state !== 'pending').length;
    return { violations, tasks: stored.size, outcomes, end: changes.length };
  } finally {
    await repository.close();
    await pglite.close();
  }
}

/** The whole feed, from position 0 to the store's current position. */
async function readFeed(repository: PostgresExternalTaskRepository): Promise<ExternalTaskChange[]> {
  const end = await repository.currentPosition();
  const changes: ExternalTaskChange[] = [];
  const feed = await repository.subscribe({ after: 0, onChange: (change) => void changes.push(change) });
  await eventually(() => feed.position >= end, `the feed up to position ${end}`, 30_000);
  await feed.close();
  return changes;
}

/** Every acknowledged write is in the store, as acknowledged (a later acknowledged write may follow it). */
function checkAcknowledged(lines: readonly WriteLine[], stored: ReadonlyMap<string, ExternalTask>): string[] {
  const violations: string[] = [];
  const outcomes = new Map<string, number>();
  for (const line of lines) {
    if (line.op === 'created') {
      for (const id of line.ids) if (!stored.has(id)) violations.push(`acknowledged task ${id} is missing`);
    } else if (line.op === 'locked') {
      for (const id of line.ids) {
        const task = stored.get(id);
        // A later life may have taken over the lock once it expired.
        if (!task?.workerId) violations.push(`acknowledged lock of ${id} by ${line.worker} is missing`);
      }
    } else if (line.op === 'finished') {
      outcomes.set(line.id, (outcomes.get(line.id) ?? 0) + 1);
      const task = stored.get(line.id);
      if (task?.state !== 'finished' || JSON.stringify(task.result) !== JSON.stringify(line.result)) {
        violations.push(
          `acknowledged finish of ${line.id} (${JSON.stringify(line.result)}) is missing: ${describe(task)}`,
        );
      }
    } else if (line.op === 'failed') {
      outcomes.set(line.id, (outcomes.get(line.id) ?? 0) + 1);
      const task = stored.get(line.id);
      if (task?.state !== 'failed' || task.error?.type !== line.type) {
        violations.push(`acknowledged ${line.type} error of ${line.id} is missing: ${describe(task)}`);
      }
    }
  }
  for (const [id, count] of outcomes)
    if (count > 1) violations.push(`${id} was acknowledged ${count} outcomes`);
  return violations;
}

/**
 * Nothing is stored that the journal does not account for, but for the creates a kill interrupted (a
 * `begin` with no acknowledgement after it): they may have committed before the kill, unacknowledged.
 */
function checkNothingElse(lines: readonly WriteLine[], stored: ReadonlyMap<string, ExternalTask>): string[] {
  const acknowledged = new Set(lines.flatMap((line) => (line.op === 'created' ? line.ids : [])));
  const interrupted = new Set(
    lines.flatMap((line, i) =>
      line.op === 'begin' && line.write === 'create' && lines[i + 1]?.op !== 'created' ? line.keys : [],
    ),
  );
  const unaccounted = [...stored.values()].filter(
    (task) => !acknowledged.has(task.id) && !interrupted.has(task.idempotencyKey ?? ''),
  );
  return unaccounted.length > 0
    ? [
        `${unaccounted.length} stored tasks were never written: ${unaccounted
          .slice(0, 5)
          .map((task) => task.id)
          .join(', ')}`,
      ]
    : [];
}

/** The feed reads back as positions 1…end, each once, with a change for each acknowledged write. */
function checkFeed(lines: readonly WriteLine[], changes: readonly ExternalTaskChange[]): string[] {
  const violations: string[] = [];
  const wrong = changes.findIndex((change, index) => change.position !== index + 1);
  if (wrong !== -1)
    violations.push(`the feed is not gap-free: position ${changes[wrong]!.position} at ${wrong + 1}`);
  const told = new Set(changes.map((change) => `${change.type}|${change.task.id}`));
  for (const line of lines) {
    const expected =
      line.op === 'created'
        ? line.ids.map((id) => `created|${id}`)
        : line.op === 'locked'
          ? line.ids.map((id) => `locked|${id}`)
          : line.op === 'finished' || line.op === 'failed'
            ? [`${line.op}|${line.id}`]
            : [];
    for (const change of expected) if (!told.has(change)) violations.push(`the feed lacks ${change}`);
  }
  return violations;
}

function describe(task: ExternalTask | undefined): string {
  return task
    ? `${task.state}, result ${JSON.stringify(task.result)}, error ${JSON.stringify(task.error)}`
    : 'no task';
}
