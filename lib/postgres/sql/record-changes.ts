import type { ExternalTaskChangeType } from '../../repository/index.js';
import type { TaskRecord } from '../task-record.js';

/**
 * Records the changes of a statement in the feed, with their positions (`record_changes`, see
 * `migrations/v2-positions-at-recording.ts`): an expression for the statement's final SELECT list that answers, in ONE
 * row of the result (NULL in the others), the changes recorded as a JSON array of [position, type, task]
 * (see {@link RecordedChange}). `rows` is a query of `type` and `task` (and whatever `order` reads);
 * `order` orders the changes as the statement made them; `retention` is how many of the latest positions
 * the feed keeps. `perRow`: whether the statement answers several rows (else it answers one).
 *
 * It runs after the statement's task rows are written (it reads what they return), so the feed's row is
 * the last lock the statement takes, and the one it holds the shortest time.
 */
export function recordChanges(
  schema: string,
  retention: number,
  rows: string,
  order: string,
  perRow = true,
): string {
  const record =
    `(SELECT ${schema}.record_changes(array_agg(type ORDER BY ${order}), array_agg(task ORDER BY ${order}), ` +
    `${retention}::bigint) FROM (${rows}) AS change)`;
  return perRow ? `CASE WHEN row_number() OVER () = 1 THEN ${record} END` : record;
}

/** One change as a recording statement answers it: position, type, task record. */
export type RecordedChange = readonly [position: number, type: ExternalTaskChangeType, task: TaskRecord];

/** A row of a recording statement: its changes in one row of the statement's answer, null in the others. */
export interface Recording {
  readonly recorded: readonly RecordedChange[] | null;
}

/**
 * The task records of the changes a statement recorded — of `type` only, when given — in the order
 * they were recorded. Statements whose rows are changes answer their records only there, once.
 */
export function recordedTasks(rows: readonly Recording[], type?: ExternalTaskChangeType): TaskRecord[] {
  const recorded = rows.find((row) => row.recorded !== null)?.recorded ?? [];
  return recorded.filter((change) => type === undefined || change[1] === type).map((change) => change[2]);
}
