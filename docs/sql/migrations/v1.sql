-- Built by lib/postgres/sql/migrations/ (version 1: tasks, change feed outbox, shared functions).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

CREATE TABLE "external_tasks".tasks (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      -- Creation order: equal priorities are handed out oldest first, and createMany keeps its order.
      sequence bigint GENERATED ALWAYS AS IDENTITY,
      topic text NOT NULL,
      flow_node_instance_id text NOT NULL,
      correlation_id text NOT NULL,
      process_instance_id text NOT NULL,
      process_model_id text,
      tenant_id text,
      identity json,
      payload json NOT NULL,
      priority bigint NOT NULL,
      state text NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'finished', 'failed', 'cancelled')),
      worker_id text,
      lock_expires_at timestamptz,
      retry_at timestamptz,
      -- NULL: available now (never locked, given back, revived). Otherwise the time the task becomes
      -- available: its lock's expiry or its retry's due time (a pending task has at most one of them).
      available_at timestamptz GENERATED ALWAYS AS (coalesce(lock_expires_at, retry_at)) STORED,
      created_at timestamptz NOT NULL,
      finished_at timestamptz,
      result json,
      error json,
      retries integer,
      attempts integer NOT NULL DEFAULT 0,
      incident boolean
    );

CREATE INDEX tasks_ready ON "external_tasks".tasks (topic, priority DESC, sequence)
      WHERE state = 'pending' AND available_at IS NULL;

CREATE INDEX tasks_waiting ON "external_tasks".tasks (topic, available_at)
      WHERE state = 'pending' AND available_at IS NOT NULL;

CREATE INDEX tasks_topic ON "external_tasks".tasks (topic, sequence);

CREATE INDEX tasks_state ON "external_tasks".tasks (state, sequence);

CREATE INDEX tasks_process_instance ON "external_tasks".tasks (process_instance_id);

CREATE INDEX tasks_flow_node_instance ON "external_tasks".tasks (flow_node_instance_id);

CREATE INDEX tasks_correlation ON "external_tasks".tasks (correlation_id);

CREATE INDEX tasks_tenant ON "external_tasks".tasks (tenant_id, topic) WHERE tenant_id IS NOT NULL;

CREATE INDEX tasks_finished ON "external_tasks".tasks (finished_at) WHERE state <> 'pending';

CREATE TABLE "external_tasks".changes (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      position bigint UNIQUE,
      type text NOT NULL,
      task json NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT now()
    );

CREATE INDEX changes_unsequenced ON "external_tasks".changes (id) WHERE position IS NULL;

CREATE TABLE "external_tasks".feed (
      singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
      sequenced_through bigint NOT NULL DEFAULT 0,
      pruned_through bigint NOT NULL DEFAULT 0
    );

INSERT INTO "external_tasks".feed DEFAULT VALUES;

CREATE FUNCTION "external_tasks".announce_changes() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM recorded) THEN
        PERFORM pg_notify('external_tasks', 'c');
      END IF;
      RETURN NULL;
    END $$;

CREATE TRIGGER changes_announce AFTER INSERT ON "external_tasks".changes
      REFERENCING NEW TABLE AS recorded FOR EACH STATEMENT EXECUTE FUNCTION "external_tasks".announce_changes();

CREATE FUNCTION "external_tasks".clock(injected_ms bigint) RETURNS timestamptz LANGUAGE sql STABLE AS $$
      SELECT coalesce(timestamptz 'epoch' + injected_ms * interval '1 millisecond',
                      date_trunc('milliseconds', now()))
    $$;

CREATE FUNCTION "external_tasks".ms(at timestamptz) RETURNS bigint LANGUAGE sql STABLE AS $$
      SELECT (extract(epoch FROM at) * 1000)::bigint
    $$;

CREATE FUNCTION "external_tasks".task_record(t "external_tasks".tasks) RETURNS json LANGUAGE sql STABLE AS $$
      SELECT json_build_object(
        'id', t.id, 'topic', t.topic, 'flowNodeInstanceId', t.flow_node_instance_id,
        'correlationId', t.correlation_id, 'processInstanceId', t.process_instance_id,
        'processModelId', t.process_model_id, 'tenantId', t.tenant_id, 'identity', t.identity,
        'payload', t.payload, 'priority', t.priority, 'state', t.state, 'workerId', t.worker_id,
        'lockExpirationTime', "external_tasks".ms(t.lock_expires_at), 'createdAt', "external_tasks".ms(t.created_at),
        'finishedAt', "external_tasks".ms(t.finished_at), 'hasResult', t.result IS NOT NULL, 'result', t.result,
        'error', t.error, 'retries', t.retries, 'attempts', t.attempts, 'retryAt', "external_tasks".ms(t.retry_at),
        'incident', t.incident)
    $$;

CREATE FUNCTION "external_tasks".announce_availability(topics text[], delays bigint[]) RETURNS bigint
    LANGUAGE sql VOLATILE AS $$
      WITH hints AS (
        SELECT json_build_array(topic, min(delay), count(*))::text AS hint
        FROM unnest(topics, delays) AS h(topic, delay) GROUP BY topic
      ), chunked AS (
        SELECT hint, sum(octet_length(hint) + 1) OVER (ORDER BY hint ROWS UNBOUNDED PRECEDING) / 6000 AS chunk
        FROM hints
      )
      SELECT count(*) FROM (
        SELECT pg_notify('external_tasks', 'h[' || string_agg(hint, ',') || ']') FROM chunked GROUP BY chunk
      ) AS sent
    $$;
