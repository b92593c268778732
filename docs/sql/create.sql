-- Built by lib/postgres/sql/create-tasks.ts (createTasks).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

WITH clock AS (SELECT "external_tasks".clock($1) AS now),
given AS MATERIALIZED (
  SELECT n.*, gen_random_uuid() AS proposed_id,
         CASE WHEN n."idempotencyKey" IS NULL THEN n.i
              ELSE min(n.i) OVER (PARTITION BY n."idempotencyKey") END AS first_i
  FROM json_to_recordset($2::json) AS n(i integer, topic text, "flowNodeInstanceId" text,
         "correlationId" text, "processInstanceId" text, "processModelId" text, "tenantId" text,
         identity text, payload text, priority bigint, retries integer, "idempotencyKey" text)
),
existing AS MATERIALIZED (
  SELECT t.id FROM "external_tasks".tasks t
  WHERE t.idempotency_key = ANY(ARRAY(SELECT "idempotencyKey" FROM given WHERE "idempotencyKey" IS NOT NULL))
  ORDER BY t.id
  FOR UPDATE OF t
),
numbered AS MATERIALIZED (
  SELECT g.*, nextval(pg_get_serial_sequence('"external_tasks".tasks', 'sequence')) AS sequence
  FROM (SELECT * FROM given WHERE i = first_i ORDER BY i) AS g
),
stored AS (
  INSERT INTO "external_tasks".tasks (id, sequence, topic, flow_node_instance_id, correlation_id, process_instance_id,
                          process_model_id, tenant_id, identity, payload, priority, retries,
                          idempotency_key, created_at)
  OVERRIDING SYSTEM VALUE
  SELECT g.proposed_id, g.sequence, g.topic, g."flowNodeInstanceId", g."correlationId",
         g."processInstanceId", g."processModelId", g."tenantId", g.identity::json, coalesce(g.payload::json, 'null'::json),
         g.priority, g.retries, g."idempotencyKey", clock.now
  FROM numbered g, clock
  WHERE (SELECT count(*) FROM existing) >= 0
  ORDER BY g."idempotencyKey" COLLATE "C", g.i
  ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL
    DO UPDATE SET idempotency_key = excluded.idempotency_key
  RETURNING id, topic, priority, tenant_id, process_model_id, 0::bigint AS delay, sequence, idempotency_key,
            "external_tasks".task_record(tasks) AS record
),
created AS (
  SELECT stored.* FROM stored WHERE stored.id IN (SELECT proposed_id FROM given)
),
queued AS (
  INSERT INTO "external_tasks".pending (id, topic, priority, sequence, tenant_id, process_model_id)
  SELECT id, topic, priority, sequence, tenant_id, process_model_id FROM created
)
SELECT stored.record, (SELECT "external_tasks".announce_availability(array_agg(topic), array_agg(delay)) FROM created WHERE delay IS NOT NULL) AS hinted,
  CASE WHEN row_number() OVER () = 1 THEN (SELECT "external_tasks".record_changes(array_agg(type ORDER BY sequence), array_agg(task ORDER BY sequence), 100000::bigint) FROM (SELECT 'created' AS type, record AS task, sequence FROM created) AS change) END AS recorded
FROM given g JOIN stored
  ON coalesce('k:' || g."idempotencyKey", 'i:' || g.proposed_id) = coalesce('k:' || stored.idempotency_key, 'i:' || stored.id)
ORDER BY g.i;
