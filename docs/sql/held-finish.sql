-- Built by lib/postgres/sql/write-task.ts (heldTaskWrites.finish).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

WITH clock AS (SELECT "external_tasks".clock($1) AS now),
request AS (SELECT * FROM json_to_recordset($2::json) AS r(n integer, id uuid, "workerId" text, "tenantIds" text[], "processModelIds" text[], result text)),
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
  SET state = 'finished',
      finished_at = clock.now,
      lock_expires_at = NULL,
      retry_at = NULL,
      result = target.result::json,
      error = NULL
  FROM target, clock
  WHERE t.id = target.id AND target.allowed AND t.id = ANY(ARRAY(SELECT id FROM target WHERE allowed))
  RETURNING target.n, t.id, t.topic, t.priority, t.sequence, t.tenant_id, t.process_model_id, t.worker_id, t.lock_expires_at, t.retry_at, t.state, t.finished_at, t.incident, target.previous_state, NULL::bigint AS delay,
            "external_tasks".task_record(t) AS record
),
written_unqueued AS (
  DELETE FROM "external_tasks".pending p WHERE p.id = ANY(ARRAY(SELECT id FROM written WHERE state <> 'pending' AND previous_state = 'pending'))
  RETURNING 1
),
written_ended AS (
  INSERT INTO "external_tasks".ended (id, sequence, state, worker_id, finished_at, incident)
  SELECT id, sequence, state, worker_id, finished_at, incident FROM written WHERE state <> 'pending' AND previous_state = 'pending'
  RETURNING 1
)
SELECT n, true AS written, NULL::json AS record, (SELECT "external_tasks".announce_availability(array_agg(topic), array_agg(delay)) FROM written WHERE delay IS NOT NULL) AS hinted,
  CASE WHEN row_number() OVER () = 1 THEN (SELECT "external_tasks".record_changes(array_agg(type ORDER BY n), array_agg(task ORDER BY n), 100000::bigint) FROM (SELECT 'finished' AS type, record AS task, n FROM written WHERE (SELECT count(*) FROM written_unqueued) + (SELECT count(*) FROM written_ended) >= 0) AS change) END AS recorded
FROM written
UNION ALL
SELECT n, false, refused, NULL, NULL FROM target WHERE NOT allowed
ORDER BY n;
