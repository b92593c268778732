import type { SqlNames } from './names.js';
import { recordChanges } from './record-changes.js';
import { announceAvailability } from './scope.js';
import { forgetEnded, keepPlaces, placeColumns, placesKept, type PlaceChange } from './task-places.js';

/** What one kind of the engine's writes does to the task it names. */
interface EngineWrite {
  /** Which task may be written (besides `t.id = $2`), on the task `t`. */
  readonly condition: string;
  /** The SET list, on the task `t` (its values before the write) and `clock.now`; `$3` is its argument. */
  readonly set: string;
  /** The type of the change recorded. */
  readonly type: string;
  /** What the write can do to a task's place (see `task-places.ts`). */
  readonly places: readonly PlaceChange[];
  /** The hint's delay in ms, on the task `t` after the write; NULL makes no hint. */
  readonly delay: string;
}

/**
 * ONE conditional statement that writes the task `$2` if `condition` holds (an `UPDATE` locks the row
 * and re-checks the condition on its newest version, so a write racing a claim or an outcome sees what
 * won), records its change and sends its hint. The engine's writes are rare: they run alone, not in the
 * statements a process's workers share. No row: refused; the caller reads the task afterwards to say why.
 *
 * $1 injected time in ms or NULL; $2 the task id; $3 the write's argument, if it has one. Answers
 * `record` after the write, or no row.
 */
function engineWrite(s: string, retention: number, write: EngineWrite): string {
  return `
WITH clock AS (SELECT ${s}.clock($1) AS now),
written AS (
  UPDATE ${s}.tasks t SET ${write.set}
  FROM clock
  WHERE t.id = $2::uuid AND ${write.condition}
  RETURNING ${placeColumns}, 'pending'::text AS previous_state, ${write.delay} AS delay,
            ${s}.task_record(t) AS record
)${keepPlaces(s, 'written', write.places)}
SELECT record, ${announceAvailability(s, 'written')} AS hinted,
  ${recordChanges(s, retention, `SELECT '${write.type}' AS type, record AS task FROM written WHERE ${placesKept('written', write.places)}`, 'type', false)} AS recorded
FROM written`;
}

/** The engine's writes on one task, and its deletion of final tasks. */
export function engineWrites({ schema: s }: SqlNames, retention: number) {
  return {
    /** Takes a pending task from its holder: available at once, hinted now. */
    forceUnlock: engineWrite(s, retention, {
      condition: `t.state = 'pending' AND t.worker_id IS NOT NULL`,
      set: 'worker_id = NULL, lock_expires_at = NULL',
      type: 'unlocked',
      places: ['reschedule'],
      delay: '0::bigint',
    }),
    /** $3 the priority. A pending task's new place in the hand-out order makes nothing available sooner. */
    setPriority: engineWrite(s, retention, {
      condition: `t.state = 'pending'`,
      set: 'priority = $3::bigint',
      type: 'prioritySet',
      places: ['reschedule'],
      delay: 'NULL::bigint',
    }),
    /**
     * Deletes the final tasks of the process instance $1 (index `tasks_process_instance`), as the
     * final-task retention does: no change recorded. The tasks are locked in id order, as the shared
     * writes lock theirs (a late report or a setRetries of a final task locks it too), so that the two
     * wait for each other instead of deadlocking; a task revived meanwhile is re-checked on its newest
     * version and kept. The tasks are deleted by `id = ANY(ARRAY(…))`, a primary-key lookup each, not
     * by a join with them, which the generic plan may estimate at thousands of rows (see `cancelTasks`).
     * Answers `count`.
     */
    deleteFinal: `
WITH doomed AS (
  SELECT id, sequence FROM ${s}.tasks WHERE process_instance_id = $1 AND state <> 'pending' ORDER BY id FOR UPDATE
),
deleted AS (DELETE FROM ${s}.tasks t WHERE t.id = ANY(ARRAY(SELECT id FROM doomed)) RETURNING 1),
forgotten AS (${forgetEnded(s, 'doomed')}
)
SELECT count(*)::integer AS count FROM deleted`,
  };
}
