-- Built by lib/postgres/sql/read-tasks.ts (countByTopic).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

WITH clock AS (SELECT "external_tasks".clock($1) AS now),
topics AS (
  SELECT topic, n FROM unnest($2::text[]) WITH ORDINALITY AS asked(topic, n)
  UNION ALL
  SELECT topic, min(sequence) FROM "external_tasks".tasks
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
  FROM "external_tasks".tasks t, clock
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
ORDER BY topics.n;
