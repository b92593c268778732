import type { SqlNames } from './names.js';
import { announceAvailability, scopeCondition } from './scope.js';

/** What one conditional write does to the task it may write. */
interface ConditionalWrite {
  /** Which task may be written (besides `t.id = $2`), on the task `t`. */
  readonly condition: string;
  /** The SET list, on the task `t` (its values before the write), `clock.now` and `target`. */
  readonly set: string;
  /** The type of the change recorded. */
  readonly type: string;
  /**
   * The hint's delay in ms, on the task `t` after the write and `target` (its values before); NULL
   * makes no hint.
   */
  readonly delay: string;
}

/**
 * ONE conditional statement: the task is locked only if it may be written (`FOR UPDATE` waits for a
 * concurrent write of the same task and re-checks the condition on its newest version, so of two racing
 * writers exactly one wins), then written, its change recorded, its hint sent. No row means refused;
 * the caller classifies the refusal with a separate read ({@link classifyRefusal}) that decides nothing.
 *
 * $1 injected time in ms or NULL; $2 the task id; further parameters as the condition and SET use them.
 * Answers the record after the write: `record`.
 */
function conditionalWrite(s: string, write: ConditionalWrite): string {
  return `
WITH clock AS (SELECT ${s}.clock($1) AS now),
target AS (
  SELECT t.id, t.state AS previous_state, t.lock_expires_at AS previous_lock FROM ${s}.tasks t
  WHERE t.id = $2 AND ${write.condition}
  FOR UPDATE
),
written AS (
  UPDATE ${s}.tasks t SET ${write.set}
  FROM target, clock
  WHERE t.id = target.id
  RETURNING t.topic, ${write.delay} AS delay, ${s}.task_record(t) AS record
),
recorded AS (INSERT INTO ${s}.changes (type, task) SELECT '${write.type}', record FROM written)
SELECT record, ${announceAvailability(s, 'written')} AS hinted FROM written`;
}

/** A task the worker `$3` holds (its most recent lock, expired or not), in the scope `$4`, `$5`. */
const held = `t.state = 'pending' AND t.worker_id = $3 AND ${scopeCondition('t', '$4', '$5')}`;

/**
 * The ownership-checked writes: $1 time, $2 task id, $3 workerId, $4 scope tenant ids, $5 scope process
 * model ids, then each its own.
 */
export function heldTaskWrites({ schema: s }: SqlNames) {
  return {
    /** $6 the lock duration in ms. A hint only when the lock got shorter. */
    extendLock: conditionalWrite(s, {
      condition: held,
      set: `lock_expires_at = clock.now + $6::bigint * interval '1 millisecond'`,
      type: 'extended',
      delay: 'CASE WHEN t.lock_expires_at < target.previous_lock THEN $6::bigint END',
    }),
    unlock: conditionalWrite(s, {
      condition: held,
      set: 'worker_id = NULL, lock_expires_at = NULL',
      type: 'unlocked',
      delay: '0::bigint',
    }),
    /** $6 the result (JSON) or NULL for none. */
    finish: conditionalWrite(s, {
      condition: held,
      set: `state = 'finished', finished_at = clock.now, lock_expires_at = NULL, retry_at = NULL,
            result = $6::json, error = NULL`,
      type: 'finished',
      delay: 'NULL::bigint',
    }),
    /**
     * $6 the error (JSON); $7 whether a retry was asked for (with 0 retries). A service error is an
     * incident when a retry was asked for or the task has a retry budget; its budget is then 0.
     */
    fail: conditionalWrite(s, {
      condition: held,
      set: `state = 'failed', finished_at = clock.now, lock_expires_at = NULL, error = $6::json,
            incident = CASE WHEN $6::json->>'type' = 'service' AND ($7::boolean OR t.retries IS NOT NULL)
                            THEN true END,
            retries = CASE WHEN $6::json->>'type' = 'service' AND ($7::boolean OR t.retries IS NOT NULL)
                           THEN 0 ELSE t.retries END`,
      type: 'failed',
      delay: 'NULL::bigint',
    }),
    /** $6 the error (JSON); $7 the retries left; $8 the retry timeout in ms. */
    scheduleRetry: conditionalWrite(s, {
      condition: held,
      set: `worker_id = NULL, lock_expires_at = NULL, error = $6::json, retries = $7::integer,
            retry_at = clock.now + $8::bigint * interval '1 millisecond'`,
      type: 'retryScheduled',
      delay: '$8::bigint',
    }),
  };
}

/**
 * setRetries as one conditional statement: $1 time, $2 task id, $3 retries. A pending task gets the
 * budget; an incident with retries > 0 comes back to pending (no worker, no incident, no finishedAt),
 * available at once; an incident with 0 keeps failing with the budget 0. Other final tasks: no row.
 */
export function setRetries({ schema: s }: SqlNames): string {
  const revive = `t.incident IS TRUE AND $3::integer > 0`;
  return conditionalWrite(s, {
    condition: `(t.state = 'pending' OR t.incident IS TRUE)`,
    set: `retries = $3::integer,
          state = CASE WHEN ${revive} THEN 'pending' ELSE t.state END,
          incident = CASE WHEN ${revive} THEN NULL ELSE t.incident END,
          finished_at = CASE WHEN ${revive} THEN NULL ELSE t.finished_at END,
          worker_id = CASE WHEN ${revive} THEN NULL ELSE t.worker_id END`,
    type: 'retriesSet',
    delay: `CASE WHEN target.previous_state <> 'pending' AND t.state = 'pending' THEN 0::bigint END`,
  });
}

/**
 * The read after a refused write, to say why (it decides nothing: the write already did not happen).
 * $1 the task id; $2, $3 the scope. Answers `record` and `in_scope`, or no row.
 */
export function classifyRefusal({ schema: s }: SqlNames): string {
  return `SELECT ${s}.task_record(t) AS record, ${scopeCondition('t', '$2', '$3')} AS in_scope
FROM ${s}.tasks t WHERE t.id = $1`;
}

/**
 * Cancels the pending tasks whose `column` is $2 (one statement; a concurrent cancel or outcome of the
 * same task waits for the row and re-checks `pending`, so each task is cancelled once), recording a
 * `cancelled` change each, in creation order. $1 time. Answers `count`.
 */
export function cancelTasks(
  { schema: s }: SqlNames,
  column: 'id' | 'flow_node_instance_id' | 'process_instance_id',
): string {
  return `
WITH clock AS (SELECT ${s}.clock($1) AS now),
cancelled AS (
  UPDATE ${s}.tasks t
  SET state = 'cancelled', finished_at = clock.now, lock_expires_at = NULL, retry_at = NULL
  FROM clock
  WHERE t.${column} = $2 AND t.state = 'pending'
  RETURNING t.sequence, ${s}.task_record(t) AS record
),
recorded AS (INSERT INTO ${s}.changes (type, task) SELECT 'cancelled', record FROM cancelled ORDER BY sequence)
SELECT count(*)::integer AS count FROM cancelled`;
}
