import type { ExternalTask } from '../../model/index.js';
import type { ConditionalWriteResult, TaskScope } from '../../repository/index.js';
import { inScope } from '../../repository/task-scope.js';
import type { ChangeRecorder } from '../feed/local-offers.js';
import { recordedTasks, type Recording } from '../sql/record-changes.js';
import { toTask, type TaskRecord } from '../task-record.js';
import { isRefusedValue, StatementBatcher } from './statement-batcher.js';
import type { StatementSharing } from './statement-sharing.js';

/**
 * One caller's conditional write of one task: the time it was asked at, the task, and the fields its
 * kind of statement reads (worker, scope lists, result, …), already checked.
 */
export interface WriteCall {
  /** The injected clock's time at the call, or null for the database's. */
  readonly now: number | null;
  /** The task: a UUID (anything else names no task and never reaches a statement). */
  readonly id: string;
  /** The request's fields as the statement reads them (see `heldTaskWrites`, `setRetries`). */
  readonly fields: Readonly<Record<string, unknown>>;
  /** What it weighs against a statement's `maxWeight` (reckoned once: a result may be large). */
  readonly weight: number;
}

/** A request weighs one per this many characters of its JSON, and at least one (see `StatementSharing`). */
const weightUnit = 4096;

/** A write of the task `id` with its kind's `fields`, asked for at `now`. */
export function writeCall(
  now: number | null,
  id: string,
  fields: Readonly<Record<string, unknown>>,
): WriteCall {
  return { now, id, fields, weight: 1 + Math.floor(JSON.stringify(fields).length / weightUnit) };
}

/**
 * What a write's statement answered for it: the task after the write (`written`), or as it was when the
 * write was refused (still locked by the statement, so no other write came between); undefined when no
 * such task exists.
 */
export type WriteAnswer = { readonly written: boolean; readonly task: ExternalTask } | undefined;

/**
 * The writes of one kind of one process, sharing statements: writes that queue while a statement is in
 * flight go together in the next (`UPDATE … FROM json_to_recordset(…)` with each request's own
 * condition). Two writes of one task never share a statement nor run at once: the later goes in a later
 * statement, as if the two had been sequential.
 */
export function writeBatcher(
  recorder: ChangeRecorder,
  statement: string,
  sharing: StatementSharing,
): StatementBatcher<WriteCall, WriteAnswer> {
  return new StatementBatcher<WriteCall, WriteAnswer>({
    shapeOf: (call) => String(call.now),
    conflictOf: (call) => call.id,
    weightOf: (call) => call.weight,
    maxWeight: sharing.writeWeight,
    maxInFlight: sharing.inFlight,
    mayBeOneRequestsFault: isRefusedValue,
    run: async (batch) => {
      const [{ now }] = batch as [WriteCall];
      const requests = batch.map((call, n) => ({ n, id: call.id, ...call.fields }));
      const rows = await recorder.record<
        { n: number; written: boolean; record: TaskRecord | null } & Recording
      >(statement, [now, JSON.stringify(requests)]);
      // A written task's record is that of its change, recorded in the rows' order; a refused one's is in its row.
      const records = recordedTasks(rows);
      let next = 0;
      const answers: WriteAnswer[] = batch.map(() => undefined);
      for (const row of rows) {
        const record = row.written ? records[next++] : row.record;
        if (!record || record.id !== batch[row.n]?.id) {
          throw new Error(`A write statement answered request ${row.n} with another task or none.`);
        }
        answers[row.n] = { written: row.written, task: toTask(record) };
      }
      if (next !== records.length) {
        throw new Error(`A write statement recorded ${records.length} changes for ${next} writes.`);
      }
      return answers;
    },
  });
}

/** The scope's lists as a write request's fields (null for a list the scope leaves out). */
export function scopeFields(scope: TaskScope | undefined): {
  tenantIds: readonly string[] | null;
  processModelIds: readonly string[] | null;
} {
  return { tenantIds: scope?.tenantIds ?? null, processModelIds: scope?.processModelIds ?? null };
}

/**
 * A write's result as the contract names it: written, or why it was refused, judged on the task as the
 * refusal saw it (a task out of `scope` is not found; a pending one is another's; a final one is gone).
 */
export function writeResult(answer: WriteAnswer, scope: TaskScope | undefined): ConditionalWriteResult {
  if (answer?.written) return { status: 'ok', task: answer.task };
  if (!answer || !inScope(answer.task, scope)) return { status: 'not-found' };
  const { task } = answer;
  return task.state === 'pending' ? { status: 'locked', task } : { status: 'gone', task };
}
