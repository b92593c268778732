import type { SqlNames } from './names.js';

/**
 * The topics of the pending tasks that `condition` (on the task `t`) picks, in ascending order, as the
 * recursive CTE `name`: each step reads the first entry of the next topic (`min(topic)` after the last
 * one found, from the partial index whose predicate `condition` matches), so it costs one index descent
 * per topic, however many tasks each one holds. Its last row is NULL.
 */
function topicsOf(s: string, name: string, condition: string): string {
  return `${name}(topic) AS (
  SELECT min(t.topic) FROM ${s}.pending t WHERE ${condition}
  UNION ALL
  SELECT (SELECT min(t.topic) FROM ${s}.pending t
          WHERE ${condition} AND t.topic > ${name}.topic)
  FROM ${name} WHERE ${name}.topic IS NOT NULL
)`;
}

/**
 * The topics that have pending tasks (available now, locked, or waiting for a retry), for the hints a
 * LISTEN connection may have missed while it was away: each such topic is hinted as available now, and
 * a long poll woken by it claims, then learns its next due time from the store. The partial indexes
 * `pending_ready` and `pending_waiting` are read one entry per topic; run once per reconnection, not per
 * operation. Reading the topic of every pending task instead took a sequential scan of them all, in every
 * process after a failover, growing with the backlog (docs/postgres-plans.md).
 */
export function pendingTopics({ schema: s }: SqlNames): string {
  return `
WITH RECURSIVE ${topicsOf(s, 'ready', 't.available_at IS NULL')},
${topicsOf(s, 'waiting', 't.available_at IS NOT NULL')}
SELECT topic FROM ready WHERE topic IS NOT NULL
UNION
SELECT topic FROM waiting WHERE topic IS NOT NULL`;
}
