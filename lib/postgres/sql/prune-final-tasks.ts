import type { EndedRows } from './ending-writes.js';
import type { SqlNames } from './names.js';
import { forgetEnded } from './task-places.js';

/** How many final tasks one statement of the retention deletes at most. */
export const finalTaskSweepBatch = 1000;

/**
 * The final-task retention: deletes up to {@link finalTaskSweepBatch} tasks that ended more than $2 ms
 * before the time $1, oldest first (index `ended_finished`). Answers `count`. It skips the tasks another
 * statement holds (`SKIP LOCKED`: the next sweep takes them), so it never waits for a row lock: the
 * conditional writes lock their tasks in id order, the sweep picks in end order, and a sweep that waited
 * could deadlock with them. A task revived meanwhile (setRetries) is re-checked on its newest version and
 * kept. The batch is written into the text, not a parameter: a generic plan that does not know the LIMIT
 * expected thousands of rows and deleted by a hash join over the whole table. And the tasks are deleted
 * by `id = ANY(ARRAY(…))`, a primary-key lookup each: joined with the batch, whose 1,000 rows are a
 * good part of a table of 10,000 to 100,000 tasks, they were hashed with the whole table all the same.
 * Where final tasks go at once (`ended` is 'deleted'), the only final rows are incidents, which wait for
 * an operator: the retention leaves them (and deletes what a store of another retention left).
 */
export function pruneFinalTasks({ schema: s }: SqlNames, ended: EndedRows = 'kept'): string {
  const incidentsKept = ended === 'deleted' ? ' AND e.incident IS NOT TRUE' : '';
  return `
WITH expired AS (
  SELECT t.id, t.sequence FROM ${s}.tasks t
  WHERE t.id = ANY(ARRAY(
      SELECT e.id FROM ${s}.ended e
      WHERE e.finished_at < ${s}.clock($1) - $2::bigint * interval '1 millisecond'${incidentsKept}
      ORDER BY e.finished_at LIMIT ${finalTaskSweepBatch}))
    AND t.state <> 'pending' AND t.finished_at < ${s}.clock($1) - $2::bigint * interval '1 millisecond'
  FOR UPDATE SKIP LOCKED
),
deleted AS (DELETE FROM ${s}.tasks t WHERE t.id = ANY(ARRAY(SELECT id FROM expired)) RETURNING 1),
forgotten AS (${forgetEnded(s, 'expired')}
)
SELECT count(*)::integer AS count FROM deleted`;
}
