-- Built by lib/postgres/sql/write-task.ts (setRetries).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

WITH clock AS (SELECT "external_tasks".clock($1) AS now),
request AS (SELECT * FROM json_to_recordset($2::json) AS r(n integer, id uuid, retries integer, "retryTimeout" bigint)),
target AS (
  SELECT r.*, t.state AS previous_state, t.lock_expires_at AS previous_lock,
         coalesce((t.state = 'pending' OR t.incident IS TRUE), false) AS allowed,
         CASE WHEN (t.state = 'pending' OR t.incident IS TRUE) THEN NULL ELSE "external_tasks".task_record(t) END AS refused
  FROM request r JOIN "external_tasks".tasks t ON t.id = r.id
  WHERE t.id = ANY(ARRAY(SELECT id FROM request))
  ORDER BY t.id
  FOR UPDATE OF t
),
written AS (
  UPDATE "external_tasks".tasks t
  SET retries = target.retries,
      state = CASE WHEN t.incident IS TRUE AND target.retries > 0 THEN 'pending' ELSE t.state END,
      incident = CASE WHEN t.incident IS TRUE AND target.retries > 0 THEN NULL ELSE t.incident END,
      finished_at = CASE WHEN t.incident IS TRUE AND target.retries > 0 THEN NULL ELSE t.finished_at END,
      worker_id = CASE WHEN t.incident IS TRUE AND target.retries > 0 THEN NULL ELSE t.worker_id END,
      retry_at = CASE WHEN target."retryTimeout" IS NOT NULL AND (t.incident IS TRUE AND target.retries > 0 OR (t.state = 'pending' AND t.worker_id IS NULL))
                          THEN clock.now + target."retryTimeout" * interval '1 millisecond'
                          ELSE t.retry_at END
  FROM target, clock
  WHERE t.id = target.id AND target.allowed AND t.id = ANY(ARRAY(SELECT id FROM target WHERE allowed))
  RETURNING target.n, t.id, t.topic, t.priority, t.sequence, t.tenant_id, t.process_model_id, t.worker_id, t.lock_expires_at, t.retry_at, t.state, t.finished_at, t.incident, target.previous_state, CASE WHEN target."retryTimeout" IS NOT NULL AND t.state = 'pending' AND t.worker_id IS NULL
                 THEN target."retryTimeout"
                 WHEN target.previous_state <> 'pending' AND t.state = 'pending' THEN 0::bigint END AS delay,
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
),
written_unqueued AS (
  DELETE FROM "external_tasks".pending p WHERE p.id = ANY(ARRAY(SELECT id FROM written WHERE state <> 'pending' AND previous_state = 'pending'))
  RETURNING 1
),
written_ended AS (
  INSERT INTO "external_tasks".ended (id, sequence, state, worker_id, finished_at, incident)
  SELECT id, sequence, state, worker_id, finished_at, incident FROM written WHERE state <> 'pending' AND previous_state = 'pending'
  RETURNING 1
),
written_revived AS (
  INSERT INTO "external_tasks".pending (id, topic, priority, sequence, tenant_id, process_model_id, worker_id, available_at)
  SELECT id, topic, priority, sequence, tenant_id, process_model_id, worker_id, coalesce(lock_expires_at, retry_at)
  FROM written WHERE state = 'pending' AND previous_state <> 'pending'
  RETURNING 1
),
written_unended AS (
  DELETE FROM "external_tasks".ended e
  WHERE e.state = 'failed' AND e.sequence = ANY(ARRAY(SELECT sequence FROM written WHERE state = 'pending' AND previous_state <> 'pending'))
  RETURNING 1
)
SELECT n, true AS written, NULL::json AS record, (SELECT "external_tasks".announce_availability(array_agg(topic), array_agg(delay)) FROM written WHERE delay IS NOT NULL) AS hinted,
  CASE WHEN row_number() OVER () = 1 THEN (SELECT "external_tasks".record_changes(array_agg(type ORDER BY n), array_agg(task ORDER BY n), 100000::bigint) FROM (SELECT 'retriesSet' AS type, record AS task, n FROM written WHERE (SELECT count(*) FROM written_rescheduled) + (SELECT count(*) FROM written_unqueued) + (SELECT count(*) FROM written_ended) + (SELECT count(*) FROM written_revived) + (SELECT count(*) FROM written_unended) >= 0) AS change) END AS recorded
FROM written
UNION ALL
SELECT n, false, refused, NULL, NULL FROM target WHERE NOT allowed
ORDER BY n;
