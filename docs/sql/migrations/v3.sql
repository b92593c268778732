-- Built by lib/postgres/sql/migrations/ (version 3: idempotency keys, indexes for queries by worker and process model).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

ALTER TABLE "external_tasks".tasks ADD COLUMN idempotency_key text;

CREATE UNIQUE INDEX tasks_idempotency_key ON "external_tasks".tasks (idempotency_key)
      WHERE idempotency_key IS NOT NULL;

CREATE INDEX tasks_worker ON "external_tasks".tasks (worker_id, sequence) WHERE worker_id IS NOT NULL;

CREATE INDEX tasks_process_model ON "external_tasks".tasks (process_model_id, sequence)
      WHERE process_model_id IS NOT NULL;

CREATE OR REPLACE FUNCTION "external_tasks".task_record(t "external_tasks".tasks) RETURNS json LANGUAGE sql STABLE AS $$
      SELECT json_build_object(
        'id', t.id, 'topic', t.topic, 'flowNodeInstanceId', t.flow_node_instance_id,
        'correlationId', t.correlation_id, 'processInstanceId', t.process_instance_id,
        'processModelId', t.process_model_id, 'tenantId', t.tenant_id, 'identity', t.identity,
        'payload', t.payload, 'priority', t.priority, 'state', t.state, 'workerId', t.worker_id,
        'lockExpirationTime', "external_tasks".ms(t.lock_expires_at), 'createdAt', "external_tasks".ms(t.created_at),
        'finishedAt', "external_tasks".ms(t.finished_at), 'hasResult', t.result IS NOT NULL, 'result', t.result,
        'error', t.error, 'retries', t.retries, 'attempts', t.attempts, 'retryAt', "external_tasks".ms(t.retry_at),
        'incident', t.incident, 'idempotencyKey', t.idempotency_key)
    $$;
