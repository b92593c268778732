import type { SqlNames } from './names.js';
import { ofTenantScope, scopeCondition } from './scope.js';

/** $1 the task id. Answers `record`, or no row. */
export function getTask({ schema: s }: SqlNames): string {
  return `SELECT ${s}.task_record(t) AS record FROM ${s}.tasks t WHERE t.id = $1`;
}

/**
 * One page of tasks matching `where` (conditions on `t` built by the caller from the filter, each an
 * indexed column where one exists), in creation order, and the number of all matches. `$limit` and
 * `$offset` name the page's parameters. Answers one row: `total`, `tasks` (a JSON array of records).
 */
export function queryTasks({ schema: s }: SqlNames, where: string, limit: string, offset: string): string {
  return `
SELECT (SELECT count(*) FROM ${s}.tasks t WHERE ${where})::float8 AS total,
       coalesce((SELECT json_agg(page.record ORDER BY page.sequence) FROM (
         SELECT t.sequence, ${s}.task_record(t) AS record FROM ${s}.tasks t WHERE ${where}
         ORDER BY t.sequence LIMIT ${limit} OFFSET ${offset}
       ) AS page), '[]'::json) AS tasks`;
}

/**
 * Counts per topic and state at `now`. $1 time; $2 the topics (NULL: every topic with tasks — of the
 * tenant, when one is given, found by `tasks_tenant` rather than by reading every task — in the order of
 * their first task); $3 a tenant or NULL. One row per topic, in the order asked.
 */
export function countByTopic({ schema: s }: SqlNames): string {
  return `
WITH clock AS (SELECT ${s}.clock($1) AS now),
topics AS (
  SELECT topic, n FROM unnest($2::text[]) WITH ORDINALITY AS asked(topic, n)
  UNION ALL
  SELECT topic, min(sequence) FROM ${s}.tasks
  WHERE $2::text[] IS NULL AND ($3::text IS NULL OR tenant_id = $3) GROUP BY topic
),
counted AS (
  SELECT t.topic,
    count(*) FILTER (WHERE t.state = 'pending' AND coalesce(t.lock_expires_at, t.retry_at, clock.now) <= clock.now)
      AS available,
    count(*) FILTER (WHERE t.state = 'pending' AND t.lock_expires_at > clock.now) AS locked,
    count(*) FILTER (WHERE t.state = 'pending' AND t.retry_at > clock.now) AS retrying,
    count(*) FILTER (WHERE t.state = 'failed' AND t.error->>'type' = 'bpmn') AS bpmn_errors,
    count(*) FILTER (WHERE t.state = 'failed' AND t.error->>'type' <> 'bpmn') AS service_errors,
    count(*) FILTER (WHERE t.state = 'failed' AND t.incident IS TRUE) AS incidents,
    count(*) FILTER (WHERE t.state = 'finished') AS finished,
    count(*) FILTER (WHERE t.state = 'cancelled') AS cancelled
  FROM ${s}.tasks t, clock
  WHERE t.topic IN (SELECT topic FROM topics) AND ($3::text IS NULL OR t.tenant_id = $3)
  GROUP BY t.topic
)
SELECT topics.topic,
  coalesce(available, 0)::integer AS available, coalesce(locked, 0)::integer AS locked,
  coalesce(retrying, 0)::integer AS retrying,
  (coalesce(bpmn_errors, 0) + coalesce(service_errors, 0))::integer AS failed,
  coalesce(bpmn_errors, 0)::integer AS "bpmnErrors", coalesce(service_errors, 0)::integer AS "serviceErrors",
  coalesce(incidents, 0)::integer AS incidents, coalesce(finished, 0)::integer AS finished,
  coalesce(cancelled, 0)::integer AS cancelled
FROM topics LEFT JOIN counted USING (topic)
WHERE $2::text[] IS NOT NULL OR counted.topic IS NOT NULL
ORDER BY topics.n`;
}

/**
 * How long until a pending task of the topics $2 in the scope $3, $4 is available, at the time $1: 0 if
 * one is available now, else the ms until the earliest `available_at`, NULL if none. Per topic, one
 * entry of `pending_ready` and the first of `pending_waiting`. The ready task is asked for in the index's
 * order, though any would do: unordered, the generic plan (which takes a topic for the table's average)
 * expected to meet one within the first rows of a sequential scan, and for a topic without ready tasks
 * beside a backlog in another read the whole table at every poll of the quiet topic (a cost growing with
 * the backlog; docs/postgres-plans.md). Scoped to a list of tenants, it asks each tenant's first
 * entry of `pending_ready_tenant` instead (see `ofTenantScope`; under the one-time condition `$3` NULL or
 * not, so one way is never executed): filtering `pending_ready` by the list walked the other tenants'
 * entries at every poll (docs/postgres-plans.md).
 */
export function msUntilNextAvailable({ schema: s }: SqlNames): string {
  const inScope = scopeCondition('t', '$3', '$4');
  const ready = (condition: string): string => `
          SELECT true AS ready FROM ${s}.pending t
          WHERE t.topic = topic.name AND t.available_at IS NULL${condition} AND ${inScope}
          ORDER BY t.priority DESC, t.sequence LIMIT 1`;
  return `
WITH clock AS (SELECT ${s}.clock($1) AS now),
earliest AS MATERIALIZED (
  SELECT (SELECT true FROM (${ofTenantScope('$3', ready)}
          ) found LIMIT 1) AS ready,
         (SELECT t.available_at FROM ${s}.pending t
          WHERE t.topic = topic.name AND t.available_at IS NOT NULL AND ${inScope}
          ORDER BY t.available_at LIMIT 1) AS at
  FROM unnest($2::text[]) AS topic(name)
)
SELECT CASE WHEN bool_or(ready) THEN 0
            WHEN min(at) IS NOT NULL THEN greatest(0, ${s}.ms(min(at)) - ${s}.ms((SELECT now FROM clock)))
       END::float8 AS ms
FROM earliest`;
}
