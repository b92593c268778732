-- Built by lib/postgres/sql/write-task.ts (heldTaskWrites.extendLock).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

WITH clock AS (SELECT "external_tasks".clock($1) AS now),
request AS (SELECT * FROM json_to_recordset($2::json) AS r(n integer, id uuid, "workerId" text, "tenantIds" text[], "processModelIds" text[], "lockDuration" bigint)),
target AS (
  SELECT r.*, t.state AS previous_state, t.lock_expires_at AS previous_lock,
         coalesce(t.state = 'pending' AND t.worker_id = r."workerId" AND coalesce(t.tenant_id = ANY(r."tenantIds"::text[]), r."tenantIds"::text[] IS NULL) AND coalesce(t.process_model_id = ANY(r."processModelIds"::text[]), r."processModelIds"::text[] IS NULL), false) AS allowed,
         CASE WHEN t.state = 'pending' AND t.worker_id = r."workerId" AND coalesce(t.tenant_id = ANY(r."tenantIds"::text[]), r."tenantIds"::text[] IS NULL) AND coalesce(t.process_model_id = ANY(r."processModelIds"::text[]), r."processModelIds"::text[] IS NULL) THEN NULL ELSE "external_tasks".task_record(t) END AS refused
  FROM request r JOIN "external_tasks".tasks t ON t.id = r.id
  WHERE t.id = ANY(ARRAY(SELECT id FROM request))
  ORDER BY t.id
  FOR UPDATE OF t
),
written AS (
  UPDATE "external_tasks".tasks t
  SET lock_expires_at = clock.now + target."lockDuration" * interval '1 millisecond'
  FROM target, clock
  WHERE t.id = target.id AND target.allowed AND t.id = ANY(ARRAY(SELECT id FROM target WHERE allowed))
  RETURNING target.n, t.id, t.topic, t.priority, t.sequence, t.tenant_id, t.process_model_id, t.worker_id, t.lock_expires_at, t.retry_at, t.state, t.finished_at, t.incident, target.previous_state, CASE WHEN t.lock_expires_at < target.previous_lock THEN target."lockDuration" END AS delay,
            "external_tasks".task_record(t) AS record
),
written_rescheduled AS (
  UPDATE "external_tasks".pending p
  SET worker_id = w.worker_id, available_at = coalesce(w.lock_expires_at, w.retry_at), priority = w.priority
  FROM written w
  WHERE p.id = w.id AND p.id = ANY(ARRAY(SELECT id FROM written WHERE state = 'pending' AND previous_state = 'pending'))
    AND (p.worker_id, p.available_at, p.priority) IS DISTINCT FROM
        (w.worker_id, coalesce(w.lock_expires_at, w.retry_at), w.priority)
  RETURNING 1
)
SELECT n, true AS written, NULL::json AS record, (SELECT "external_tasks".announce_availability(array_agg(topic), array_agg(delay)) FROM written WHERE delay IS NOT NULL) AS hinted,
  CASE WHEN row_number() OVER () = 1 THEN (SELECT "external_tasks".record_changes(array_agg(type ORDER BY n), array_agg(task ORDER BY n), 100000::bigint) FROM (SELECT 'extended' AS type, record AS task, n FROM written WHERE (SELECT count(*) FROM written_rescheduled) >= 0) AS change) END AS recorded
FROM written
UNION ALL
SELECT n, false, refused, NULL, NULL FROM target WHERE NOT allowed
ORDER BY n;
