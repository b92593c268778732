import type { SqlNames } from './names.js';
import { recordChanges } from './record-changes.js';
import { announceAvailability, scopeCondition } from './scope.js';
import {
  endingWithDeletes,
  setList,
  type Assignment,
  type EndedRows,
  type EndingWrite,
} from './ending-writes.js';
import { keepPlaces, placeColumns, placesKept, type PlaceChange } from './task-places.js';

/** What one kind of conditional write does to each task it may write. */
interface ConditionalWrite {
  /**
   * The request's own fields after `n` and `id`: column definitions of `json_to_recordset`, read as
   * `r` in the condition and as `target` in SET and delay.
   */
  readonly fields: string;
  /** Which task may be written (besides `t.id = r.id`), on the task `t` and its request `r`. */
  readonly condition: string;
  /** The assignments, on the task `t` (its values before the write), `clock.now` and `target`. */
  readonly set: readonly Assignment[];
  /** The type of the change recorded. */
  readonly type: string;
  /** What the write can do to a task's place (see `task-places.ts`). */
  readonly places: readonly PlaceChange[];
  /**
   * The hint's delay in ms, on the task `t` after the write and `target` (the request, and the task's
   * `previous_state` and `previous_lock` before it); NULL makes no hint.
   */
  readonly delay: string;
  /**
   * For a write that ends every task it writes (`places` is `['end']`, `delay` NULL): which rows stay
   * when final tasks go at once, and whether the result is JSON `null` (see {@link EndingWrite}).
   */
  readonly ending?: Pick<EndingWrite, 'kept' | 'jsonNullResult'>;
}

/**
 * ONE conditional statement for a BATCH of writes of one kind, each to its own task (concurrent writes of
 * a process share a statement and its commit; see `lib/postgres/batching/`; a write alone is a batch of
 * one). Every requested task is locked (`FOR UPDATE`, in id order, so that two batches of two processes
 * that share tasks wait for each other instead of deadlocking; it waits for a concurrent write of the
 * same task and then reads its newest version), the condition is judged on that version, and the task is
 * written only if its request may write it — so of two racing writers exactly one wins — with its change
 * recorded and its hint sent. A batch never holds two writes of one task (the batcher keeps the later one
 * for the next statement). A refused request answers the task as it was when refused, still locked, so
 * the caller can say why (not found, final, held by another) from what the refusal saw, not from a later
 * read another write could have changed. The tasks are looked up by `id = ANY(ARRAY(…))`: a primary-key
 * lookup per request whatever the table holds (joined with the requests alone, which the planner
 * estimates at 100 rows, a table of some thousand rows was read whole).
 *
 * $1 injected time in ms or NULL; $2 a JSON array of requests, each with its index `n`, the task `id`
 * and the fields of its kind. Answers one row per request whose task exists, in the order of `n`: `n`,
 * `written`, and `record`: the record at the refusal (refused), NULL when written — a written task's
 * record after the write is that of its change recorded, in the same order (sent once). Where final
 * tasks go at once (`ended` is 'deleted'), a write that ends tasks deletes their rows instead (see
 * `ending-writes.ts`).
 */
function conditionalWrite(s: string, retention: number, ended: EndedRows, write: ConditionalWrite): string {
  const where = `t.id = target.id AND target.allowed AND t.id = ANY(ARRAY(SELECT id FROM target WHERE allowed))`;
  const deleting = ended === 'deleted' && write.ending !== undefined;
  const places: readonly PlaceChange[] = deleting ? ['endDeleting'] : write.places;
  const written = deleting
    ? endingWithDeletes(s, 'written', {
        using: 'target, clock',
        where,
        returning: [
          ['n', 'target.n'],
          ['previous_state', 'target.previous_state'],
          ['delay', 'NULL::bigint'],
        ],
        assignments: write.set,
        ...write.ending,
      })
    : `written AS (
  UPDATE ${s}.tasks t
  SET ${setList(write.set)}
  FROM target, clock
  WHERE ${where}
  RETURNING target.n, ${placeColumns}, target.previous_state, ${write.delay} AS delay,
            ${s}.task_record(t) AS record
)`;
  return `
WITH clock AS (SELECT ${s}.clock($1) AS now),
request AS (SELECT * FROM json_to_recordset($2::json) AS r(n integer, id uuid, ${write.fields})),
target AS (
  SELECT r.*, t.state AS previous_state, t.lock_expires_at AS previous_lock,
         coalesce(${write.condition}, false) AS allowed,
         CASE WHEN ${write.condition} THEN NULL ELSE ${s}.task_record(t) END AS refused
  FROM request r JOIN ${s}.tasks t ON t.id = r.id
  WHERE t.id = ANY(ARRAY(SELECT id FROM request))
  ORDER BY t.id
  FOR UPDATE OF t
),
${written}${keepPlaces(s, 'written', places)}
SELECT n, true AS written, NULL::json AS record, ${announceAvailability(s, 'written')} AS hinted,
  ${recordChanges(s, retention, `SELECT '${write.type}' AS type, record AS task, n FROM written WHERE ${placesKept('written', places)}`, 'n')} AS recorded
FROM written
UNION ALL
SELECT n, false, refused, NULL, NULL FROM target WHERE NOT allowed
ORDER BY n`;
}

/** The fields of an ownership-checked write: the worker, the scope's lists (NULL when left out). */
const heldFields = `"workerId" text, "tenantIds" text[], "processModelIds" text[]`;

/**
 * A service error that becomes an incident, on the task `t` and the request `target`: a retry was asked
 * for or the task has a retry budget.
 */
const incident = `target.error::json->>'type' = 'service' AND (target."retryAsked" OR t.retries IS NOT NULL)`;

/** A task the request's worker holds (its most recent lock, expired or not), in the request's scope. */
const held = `t.state = 'pending' AND t.worker_id = r."workerId" AND ${scopeCondition(
  't',
  'r."tenantIds"',
  'r."processModelIds"',
)}`;

/**
 * The ownership-checked writes, each for a batch: every request has `n`, `id`, `workerId`, `tenantIds`,
 * `processModelIds` (the scope's lists, NULL when left out), then the fields of its kind.
 */
export function heldTaskWrites({ schema: s }: SqlNames, retention: number, ended: EndedRows = 'kept') {
  return {
    /** `lockDuration` in ms. A hint only when the lock got shorter. */
    extendLock: conditionalWrite(s, retention, ended, {
      fields: `${heldFields}, "lockDuration" bigint`,
      condition: held,
      set: [['lock_expires_at', `clock.now + target."lockDuration" * interval '1 millisecond'`]],
      type: 'extended',
      places: ['reschedule'],
      delay: 'CASE WHEN t.lock_expires_at < target.previous_lock THEN target."lockDuration" END',
    }),
    unlock: conditionalWrite(s, retention, ended, {
      fields: heldFields,
      condition: held,
      set: [
        ['worker_id', 'NULL'],
        ['lock_expires_at', 'NULL'],
      ],
      type: 'unlocked',
      places: ['reschedule'],
      delay: '0::bigint',
    }),
    /** `result`: the result as JSON text, or null for none. */
    finish: conditionalWrite(s, retention, ended, {
      fields: `${heldFields}, result text`,
      condition: held,
      set: [
        ['state', `'finished'`],
        ['finished_at', 'clock.now'],
        ['lock_expires_at', 'NULL'],
        ['retry_at', 'NULL'],
        ['result', 'target.result::json'],
        ['error', 'NULL'],
      ],
      type: 'finished',
      places: ['end'],
      delay: 'NULL::bigint',
      ending: { kept: 'false', jsonNullResult: `target.result = 'null'` },
    }),
    /**
     * `error`: the error as JSON text; `retryAsked`: whether a retry was asked for (with 0 retries). A
     * service error is an incident when a retry was asked for or the task has a retry budget; its budget
     * is then 0.
     */
    fail: conditionalWrite(s, retention, ended, {
      fields: `${heldFields}, error text, "retryAsked" boolean`,
      condition: held,
      set: [
        ['state', `'failed'`],
        ['finished_at', 'clock.now'],
        ['lock_expires_at', 'NULL'],
        ['error', 'target.error::json'],
        ['incident', `CASE WHEN ${incident} THEN true END`],
        ['retries', `CASE WHEN ${incident} THEN 0 ELSE t.retries END`],
      ],
      type: 'failed',
      places: ['end'],
      delay: 'NULL::bigint',
      ending: { kept: incident, jsonNullResult: 'false' },
    }),
    /** `error`: the error as JSON text; `retries`: the retries left; `retryTimeout`: in ms. */
    scheduleRetry: conditionalWrite(s, retention, ended, {
      fields: `${heldFields}, error text, retries integer, "retryTimeout" bigint`,
      condition: held,
      set: [
        ['worker_id', 'NULL'],
        ['lock_expires_at', 'NULL'],
        ['error', 'target.error::json'],
        ['retries', 'target.retries'],
        ['retry_at', `clock.now + target."retryTimeout" * interval '1 millisecond'`],
      ],
      type: 'retryScheduled',
      places: ['reschedule'],
      delay: 'target."retryTimeout"',
    }),
  };
}

/** The kinds of ownership-checked writes. */
export type HeldTaskWriteKind = keyof ReturnType<typeof heldTaskWrites>;

/**
 * setRetries for a batch, as one conditional statement: each request has `n`, `id`, `retries` and
 * `retryTimeout` (ms, or NULL for none). A pending task gets the budget; an incident with retries > 0
 * comes back to pending (no worker, no incident, no finishedAt), available at once; an incident with 0
 * keeps failing with the budget 0. With a `retryTimeout`, a task that is pending and held by no worker
 * after the write becomes available at now + retryTimeout (hinted with that delay). Other final tasks:
 * no row.
 */
export function setRetries({ schema: s }: SqlNames, retention: number): string {
  const revive = `t.incident IS TRUE AND target.retries > 0`;
  const putOff = `target."retryTimeout" IS NOT NULL AND (${revive} OR (t.state = 'pending' AND t.worker_id IS NULL))`;
  return conditionalWrite(s, retention, 'kept', {
    fields: 'retries integer, "retryTimeout" bigint',
    condition: `(t.state = 'pending' OR t.incident IS TRUE)`,
    set: [
      ['retries', 'target.retries'],
      ['state', `CASE WHEN ${revive} THEN 'pending' ELSE t.state END`],
      ['incident', `CASE WHEN ${revive} THEN NULL ELSE t.incident END`],
      ['finished_at', `CASE WHEN ${revive} THEN NULL ELSE t.finished_at END`],
      ['worker_id', `CASE WHEN ${revive} THEN NULL ELSE t.worker_id END`],
      [
        'retry_at',
        `CASE WHEN ${putOff}
                          THEN clock.now + target."retryTimeout" * interval '1 millisecond'
                          ELSE t.retry_at END`,
      ],
    ],
    type: 'retriesSet',
    places: ['reschedule', 'end', 'revive'],
    delay: `CASE WHEN target."retryTimeout" IS NOT NULL AND t.state = 'pending' AND t.worker_id IS NULL
                 THEN target."retryTimeout"
                 WHEN target.previous_state <> 'pending' AND t.state = 'pending' THEN 0::bigint END`,
  });
}

/**
 * Cancels the pending tasks whose `column` is $2 (one statement; a concurrent cancel or outcome of the
 * same task waits for the row and re-checks `pending`, so each task is cancelled once), recording a
 * `cancelled` change each, in creation order. The tasks are locked in id order, as the batched writes
 * lock theirs, so that a cancel and a batch that share tasks never deadlock. They are updated by
 * `id = ANY(ARRAY(…))`, a primary-key lookup each: the generic plan estimates the tasks of a process
 * instance as the table's average, and where instances have thousands of tasks, the update joined with
 * that many rows hashed the whole table (docs/postgres-plans.md). $1 time. Answers `count`.
 */
export function cancelTasks(
  { schema: s }: SqlNames,
  retention: number,
  column: 'id' | 'flow_node_instance_id' | 'process_instance_id',
  ended: EndedRows = 'kept',
): string {
  const set: Assignment[] = [
    ['state', `'cancelled'`],
    ['finished_at', 'clock.now'],
    ['lock_expires_at', 'NULL'],
    ['retry_at', 'NULL'],
  ];
  const where = 't.id = ANY(ARRAY(SELECT id FROM target))';
  const places: PlaceChange[] = [ended === 'deleted' ? 'endDeleting' : 'end'];
  const cancelled =
    ended === 'deleted'
      ? endingWithDeletes(s, 'cancelled', {
          using: 'clock',
          where,
          returning: [['previous_state', `'pending'::text`]],
          assignments: set,
          kept: 'false',
          jsonNullResult: 'false',
        })
      : `cancelled AS (
  UPDATE ${s}.tasks t
  SET ${setList(set)}
  FROM clock
  WHERE ${where}
  RETURNING ${placeColumns}, 'pending'::text AS previous_state, ${s}.task_record(t) AS record
)`;
  return `
WITH clock AS (SELECT ${s}.clock($1) AS now),
target AS (
  SELECT t.id FROM ${s}.tasks t WHERE t.${column} = $2 AND t.state = 'pending' ORDER BY t.id FOR UPDATE
),
${cancelled}${keepPlaces(s, 'cancelled', places)}
SELECT count(*)::integer AS count,
  ${recordChanges(s, retention, `SELECT 'cancelled' AS type, record AS task, sequence FROM cancelled WHERE ${placesKept('cancelled', places)}`, 'sequence', false)} AS recorded
FROM cancelled`;
}
