import { ofTenantScope, scopeCondition } from './scope.js';

/**
 * The candidates of the topic `r.topic` from `source` (the table `pending` as `t`, or `t` joined so): the
 * first `$4` tasks that meet `available`, in hand-out order (`order`), in scope, their `pending` rows
 * locked with `FOR UPDATE SKIP LOCKED` so that concurrent claims pass each other instead of waiting (the
 * lock is re-checked on the row's newest version, so a task another claim took in the meantime drops
 * out). The claim then locks their task rows the same way (see `claimTasks`).
 */
function candidates(available: string, source: string, order: string): string {
  return `
    SELECT t.id, t.priority, t.sequence
    FROM ${source}
    WHERE t.topic = r.topic AND ${available} AND ${scopeCondition('t', '$7', '$8')}
    ORDER BY ${order}
    LIMIT $4
    FOR UPDATE OF t SKIP LOCKED`;
}

/**
 * The claim's candidates available without a time (never locked, given back, revived), one of two ways
 * (see `ofTenantScope`):
 *
 * - **No tenant list** (`$7` NULL): the topic's first `$4` entries of `pending_ready`.
 * - **A tenant list**: the first `$4` entries of `pending_ready_tenant` of each tenant of the list; the
 *   claim merges them in hand-out order and keeps the first `$4`, which are the first `$4` of the topic
 *   in scope. Filtering `pending_ready` by the list walked every entry of other tenants ahead of the
 *   scope's tasks (O(backlog)); this reads O(tenants × `$4`)
 *   entries. Each tenant's candidates are locked as a topic's are, so with many tenants the claim locks
 *   more candidates than it takes, as with many topics. The due candidates (`dueCandidates`) still
 *   filter by the scope: a scope of few tasks among many due ones of others walks those.
 */
export function readyCandidates(s: string): string {
  const ready = (condition: string): string =>
    candidates(`t.available_at IS NULL${condition}`, `${s}.pending t`, 't.priority DESC, t.sequence');
  return ofTenantScope('$7', ready);
}

/** Up to how many due tasks of a topic a claim takes all and sorts them. */
const FEW_DUE = 100;

/** How many entries of `pending_waiting_order` a claim walks at most per topic. */
const WALK = 10_000;

/**
 * The claim's candidates whose lock expired or whose retry came due (`available_at <= now`), exactly the
 * first `$4` of them in hand-out order, found one of two ways:
 *
 * - **Few due tasks** (at most FEW_DUE, counted by a range scan of `pending_waiting (topic, available_at)`
 *   that stops at now, or at FEW_DUE + 1): all of them, sorted. Locks still held lie
 *   after now in that index and are never visited, however many there are (a fleet of live workers).
 * - **Many due tasks** (a fleet of workers died and its locks expired): sorting them all cost O(due) per
 *   claim, for every claim until they drained (docs/postgres-plans.md). Instead the claim walks
 *   `pending_waiting_order (topic, priority DESC, sequence)` in hand-out order, keeping the due tasks and
 *   stopping at `$4` of them. Locks still held ahead in that order are walked over, so the walk reads
 *   at most WALK entries; the due tasks among those are the first due tasks in hand-out order. Only
 *   when it found fewer than `$4` does the claim take all due tasks and sort them as above (the locks it
 *   took are on the first of those, so nothing is lost or doubled).
 *   The tasks claims took over stay ahead of the due ones, as locks held, until they are finished, and
 *   the walk passes over them, at a cost growing with how many are in flight (docs/postgres-plans.md);
 *   with WALK of them in flight at once, every claim sorts the due tasks again.
 *
 * Each way runs under a one-time condition, so the other is never executed.
 */
export function dueCandidates(s: string): string {
  const now = '(SELECT now FROM clock)';
  const due = `t.available_at <= ${now}`;
  const manyDue = `(SELECT count(*) FROM (
          SELECT FROM ${s}.pending d WHERE d.topic = r.topic AND d.available_at <= ${now}
          LIMIT ${FEW_DUE + 1}
        ) d) > ${FEW_DUE}`;
  const walk = `(
        SELECT w.id, w.priority, w.sequence FROM ${s}.pending w
        WHERE w.topic = r.topic AND w.available_at > timestamptz '-infinity' AND ${manyDue}
        ORDER BY w.priority DESC, w.sequence
        LIMIT ${WALK}
      ) walk JOIN ${s}.pending t ON t.id = walk.id`;
  return `
    -- Many due tasks (more than ${FEW_DUE}): walk at most ${WALK} waiting tasks in hand-out order, keeping the due ones.
    WITH walked AS MATERIALIZED (${candidates(due, walk, 'walk.priority DESC, walk.sequence')}
    )
    SELECT * FROM walked WHERE (SELECT count(*) FROM walked) >= $4
    UNION ALL
    -- Few due tasks, or the walk found fewer than $4: every due task (a range of pending_waiting up to now), sorted.
    SELECT * FROM (${candidates(due, `${s}.pending t`, 't.priority DESC, t.sequence')}
    ) sorted WHERE (SELECT count(*) FROM walked) < $4`;
}
