-- Built by lib/postgres/sql/engine-writes.ts (engineWrites.setPriority).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

WITH clock AS (SELECT "external_tasks".clock($1) AS now),
written AS (
  UPDATE "external_tasks".tasks t SET priority = $3::bigint
  FROM clock
  WHERE t.id = $2::uuid AND t.state = 'pending'
  RETURNING t.id, t.topic, t.priority, t.sequence, t.tenant_id, t.process_model_id, t.worker_id, t.lock_expires_at, t.retry_at, t.state, t.finished_at, t.incident, 'pending'::text AS previous_state, NULL::bigint AS delay,
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
SELECT record, (SELECT "external_tasks".announce_availability(array_agg(topic), array_agg(delay)) FROM written WHERE delay IS NOT NULL) AS hinted,
  (SELECT "external_tasks".record_changes(array_agg(type ORDER BY type), array_agg(task ORDER BY type), 100000::bigint) FROM (SELECT 'prioritySet' AS type, record AS task FROM written WHERE (SELECT count(*) FROM written_rescheduled) >= 0) AS change) AS recorded
FROM written;
