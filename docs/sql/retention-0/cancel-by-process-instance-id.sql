-- Built by lib/postgres/sql/write-task.ts (cancelTasks) and ending-writes.ts, with finalTaskRetention: 0.
-- Rendered for the schema "external_tasks" and the options but finalTaskRetention: 0 by npm run docs:sql; do not edit.

WITH clock AS (SELECT "external_tasks".clock($1) AS now),
target AS (
  SELECT t.id FROM "external_tasks".tasks t WHERE t.process_instance_id = $2 AND t.state = 'pending' ORDER BY t.id FOR UPDATE
),
cancelled_deleted AS (
  DELETE FROM "external_tasks".tasks t USING clock
  WHERE t.id = ANY(ARRAY(SELECT id FROM target)) AND NOT (false)
  RETURNING 'pending'::text AS previous_state, json_populate_record(t, json_build_object('state', 'cancelled', 'finished_at', clock.now, 'lock_expires_at', NULL, 'retry_at', NULL)) AS task,
    false AS null_result
),
cancelled AS (
  SELECT previous_state, (task).id, (task).topic, (task).priority, (task).sequence, (task).tenant_id, (task).process_model_id, (task).worker_id, (task).lock_expires_at, (task).retry_at, (task).state, (task).finished_at, (task).incident,
    CASE WHEN null_result THEN ("external_tasks".task_record(task)::jsonb || '{"hasResult": true, "result": null}')::json
         ELSE "external_tasks".task_record(task) END AS record
  FROM cancelled_deleted
),
cancelled_unqueued AS (
  DELETE FROM "external_tasks".pending p WHERE p.id = ANY(ARRAY(SELECT id FROM cancelled WHERE state <> 'pending' AND previous_state = 'pending'))
  RETURNING 1
),
cancelled_ended AS (
  INSERT INTO "external_tasks".ended (id, sequence, state, worker_id, finished_at, incident)
  SELECT id, sequence, state, worker_id, finished_at, incident FROM cancelled WHERE state <> 'pending' AND previous_state = 'pending' AND incident IS TRUE
  RETURNING 1
)
SELECT count(*)::integer AS count,
  (SELECT "external_tasks".record_changes(array_agg(type ORDER BY sequence), array_agg(task ORDER BY sequence), 100000::bigint) FROM (SELECT 'cancelled' AS type, record AS task, sequence FROM cancelled WHERE (SELECT count(*) FROM cancelled_unqueued) + (SELECT count(*) FROM cancelled_ended) >= 0) AS change) AS recorded
FROM cancelled;
