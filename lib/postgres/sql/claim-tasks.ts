import type { SqlNames } from './names.js';
import { recordChanges } from './record-changes.js';
import { dueCandidates, readyCandidates } from './claim-candidates.js';
import { announceAvailability } from './scope.js';

/**
 * Claims tasks for a BATCH of claims of one shape (the same topics with the same lock durations, the same
 * scope and time; each its own worker and maxTasks) in ONE statement: concurrent claims of a process
 * share a statement and its commit (see `lib/postgres/batching/`). The batch claims up to `$4` (the sum of
 * the maxTasks) as one claim would, then deals the tasks out in hand-out order: the first request of the
 * batch gets the first `$6[1]` tasks, the second the next `$6[2]`, and so on, each with its own worker
 * id (each request has one slot per task it may get, numbered in that order, and the task of rank k
 * goes to slot k; one lookup per task, so that the planner knows the tasks dealt are at most the tasks
 * chosen and updates them by primary key). A claim alone is a batch of one.
 *
 * Why two branches: a single index in hand-out order (`priority DESC, sequence`) with a filter
 * `available_at <= now` would walk over every task whose lock still holds before it found an available
 * one (100,000 locked tasks ahead: 100,000 index entries per claim). So the tasks available without a
 * time (`available_at IS NULL`: never locked, given back, revived) have an index of their own in hand-out
 * order (`pending_ready`, read with LIMIT), and the tasks whose lock expired or whose retry came due are
 * found by a range scan of `pending_waiting` that stops at now (locks still held lie after it) or, when
 * many are due at once, by a bounded walk of `pending_waiting_order` in hand-out order (see
 * `dueCandidates`); a claim scoped to tenants reads each tenant's own ready tasks (see `readyCandidates`).
 * The two are merged in hand-out order. Those are rows of `pending` (schema version 8); the claim then
 * locks the chosen tasks' rows of `tasks` with `SKIP LOCKED` as well (`held`: a task whose row a write
 * holds is left out, so a claim never waits for a lock and cannot deadlock with a write, which holds the
 * task row before it writes the `pending` row), and updates both rows of each task it deals. The cost is O(topics × maxTasks) (× tenants of a list), plus, when
 * many are due, the locks still held ahead of them (at most 10,000 index entries per topic): flat in
 * final, locked and due tasks (unless more than 10,000 locks still held lie ahead of many due tasks:
 * then it sorts the due ones). The
 * lock is checked against `now` of this statement: a clock that moved back makes a lock hold again. The
 * dealt tasks are updated by `id = ANY(ARRAY(…))`, a primary-key lookup each: joined with the dealt rows
 * alone, which a generic plan estimates at a tenth of the ready tasks, a backlog of 40,000 was hashed
 * whole at every claim.
 *
 * A task taken over records `lockExpired` or `retryDue` with its record before the claim, then `locked`
 * with the record after it; the changes are inserted in hand-out order. One hint per topic: the lock
 * duration, the number of tasks.
 *
 * $1 injected time in ms or NULL; $2 topic names; $3 their lock durations in ms; $4 the tasks to claim
 * in all (the sum of $6); $5 the worker id of each request; $6 the maxTasks of each request; $7 scope
 * tenant ids or NULL; $8 scope process model ids or NULL. Answers the claimed tasks in hand-out order:
 * `taker` (the 1-based index of the request in $5, $6) and the task's `id`. The records are those of
 * the `locked` changes recorded, in the same order (sent once, not also in a column of each row).
 */
export function claimTasks({ schema: s }: SqlNames, retention: number): string {
  return `
WITH clock AS (SELECT ${s}.clock($1) AS now),
requested AS (
  SELECT DISTINCT ON (topic) topic, lock_ms
  FROM unnest($2::text[], $3::bigint[]) WITH ORDINALITY AS r(topic, lock_ms, n)
  ORDER BY topic, n
),
-- The first $4 tasks of each topic available without a time (never locked, given back, revived).
ready AS (
  SELECT c.*, r.lock_ms FROM requested r CROSS JOIN LATERAL (${readyCandidates(s)}
  ) c
),
-- The first $4 tasks of each topic whose lock expired or whose retry came due.
due AS (
  SELECT c.*, r.lock_ms FROM requested r CROSS JOIN LATERAL (${dueCandidates(s)}
  ) c
),
-- Both merged in hand-out order: the first $4 (their pending rows are locked).
candidates AS (
  SELECT * FROM ready UNION ALL SELECT * FROM due
  ORDER BY priority DESC, sequence
  LIMIT $4
),
-- Their task rows, locked without waiting (a task a write holds drops out), with the record a takeover records.
held AS MATERIALIZED (
  SELECT task.id,
         CASE WHEN task.lock_expires_at IS NOT NULL THEN 'lockExpired'
              WHEN task.retry_at IS NOT NULL THEN 'retryDue' END AS takeover,
         CASE WHEN coalesce(task.lock_expires_at, task.retry_at) IS NOT NULL THEN ${s}.task_record(task) END AS previous
  FROM ${s}.tasks task
  WHERE task.id = ANY(ARRAY(SELECT id FROM candidates))
  FOR UPDATE OF task SKIP LOCKED
),
chosen AS (
  SELECT candidates.*, held.takeover, held.previous,
         row_number() OVER (ORDER BY candidates.priority DESC, candidates.sequence) AS rank
  FROM candidates JOIN held ON held.id = candidates.id
),
-- Dealt to the requests of the batch in order: request k gets the tasks ranked after those of 1..k-1.
takers AS (
  SELECT n AS taker, worker_id, max_tasks, sum(max_tasks) OVER (ORDER BY n) - max_tasks AS dealt_before
  FROM unnest($5::text[], $6::integer[]) WITH ORDINALITY AS w(worker_id, max_tasks, n)
),
dealt AS (
  SELECT chosen.*, slot.taker, slot.worker_id FROM chosen CROSS JOIN LATERAL (
    SELECT taker, worker_id FROM takers
    WHERE dealt_before < chosen.rank AND chosen.rank <= dealt_before + max_tasks
    LIMIT 1
  ) slot
),
-- The pending rows and the task rows locked for their worker.
scheduled AS (
  UPDATE ${s}.pending p
  SET worker_id = dealt.worker_id, available_at = clock.now + dealt.lock_ms * interval '1 millisecond'
  FROM dealt, clock
  WHERE p.id = dealt.id AND p.id = ANY(ARRAY(SELECT id FROM dealt))
  RETURNING 1
),
claimed AS (
  UPDATE ${s}.tasks t
  SET worker_id = dealt.worker_id, lock_expires_at = clock.now + dealt.lock_ms * interval '1 millisecond',
      retry_at = NULL, attempts = t.attempts + 1
  FROM dealt, clock
  WHERE t.id = dealt.id AND t.id = ANY(ARRAY(SELECT id FROM dealt))
  RETURNING dealt.taker, t.id, t.topic, t.priority, t.sequence, dealt.lock_ms AS delay,
            ${s}.task_record(t) AS record
),
-- The changes: a takeover (lockExpired, retryDue) before its locked change, in hand-out order.
recorded AS (
  SELECT priority, sequence, 0 AS step, takeover AS type, previous AS task FROM dealt
  WHERE takeover IS NOT NULL
  UNION ALL
  SELECT priority, sequence, 1, 'locked', record FROM claimed
)
SELECT taker::integer AS taker, id, ${announceAvailability(s, 'claimed')} AS hinted,
  ${recordChanges(s, retention, 'SELECT * FROM recorded WHERE (SELECT count(*) FROM scheduled) >= 0', 'priority DESC, sequence, step')} AS recorded
FROM claimed ORDER BY priority DESC, sequence`;
}
