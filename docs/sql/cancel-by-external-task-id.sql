-- Built by lib/postgres/sql/write-task.ts (cancelTasks).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

WITH clock AS (SELECT "external_tasks".clock($1) AS now),
target AS (
  SELECT t.id FROM "external_tasks".tasks t WHERE t.id = $2 AND t.state = 'pending' ORDER BY t.id FOR UPDATE
),
cancelled AS (
  UPDATE "external_tasks".tasks t
  SET state = 'cancelled',
      finished_at = clock.now,
      lock_expires_at = NULL,
      retry_at = NULL
  FROM clock
  WHERE t.id = ANY(ARRAY(SELECT id FROM target))
  RETURNING t.id, t.topic, t.priority, t.sequence, t.tenant_id, t.process_model_id, t.worker_id, t.lock_expires_at, t.retry_at, t.state, t.finished_at, t.incident, 'pending'::text AS previous_state, "external_tasks".task_record(t) AS record
),
cancelled_unqueued AS (
  DELETE FROM "external_tasks".pending p WHERE p.id = ANY(ARRAY(SELECT id FROM cancelled WHERE state <> 'pending' AND previous_state = 'pending'))
  RETURNING 1
),
cancelled_ended AS (
  INSERT INTO "external_tasks".ended (id, sequence, state, worker_id, finished_at, incident)
  SELECT id, sequence, state, worker_id, finished_at, incident FROM cancelled WHERE state <> 'pending' AND previous_state = 'pending'
  RETURNING 1
)
SELECT count(*)::integer AS count,
  (SELECT "external_tasks".record_changes(array_agg(type ORDER BY sequence), array_agg(task ORDER BY sequence), 100000::bigint) FROM (SELECT 'cancelled' AS type, record AS task, sequence FROM cancelled WHERE (SELECT count(*) FROM cancelled_unqueued) + (SELECT count(*) FROM cancelled_ended) >= 0) AS change) AS recorded
FROM cancelled;
