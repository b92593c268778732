-- Built by lib/postgres/sql/migrations/ (version 8: pending and ended tables beside the task table, outcomes written without index entries).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

LOCK TABLE "external_tasks".tasks, "external_tasks".changes IN ACCESS EXCLUSIVE MODE;

CREATE TABLE "external_tasks".pending (
      id uuid PRIMARY KEY,
      topic text NOT NULL,
      priority bigint NOT NULL,
      sequence bigint NOT NULL,
      tenant_id text,
      process_model_id text,
      worker_id text,
      -- NULL: available now. Otherwise when the task becomes available: its lock's expiry or its retry's due time.
      available_at timestamptz
    ) WITH (fillfactor = 70);

INSERT INTO "external_tasks".pending (id, topic, priority, sequence, tenant_id, process_model_id, worker_id, available_at)
      SELECT id, topic, priority, sequence, tenant_id, process_model_id, worker_id, coalesce(lock_expires_at, retry_at)
      FROM "external_tasks".tasks WHERE state = 'pending';

CREATE TABLE "external_tasks".ended (
      id uuid NOT NULL,
      sequence bigint NOT NULL,
      state text NOT NULL,
      worker_id text,
      finished_at timestamptz NOT NULL,
      incident boolean
    );

INSERT INTO "external_tasks".ended (id, sequence, state, worker_id, finished_at, incident)
      SELECT id, sequence, state, worker_id, coalesce(finished_at, created_at), incident
      FROM "external_tasks".tasks WHERE state <> 'pending';

CREATE INDEX pending_ready ON "external_tasks".pending (topic, priority DESC, sequence) WHERE available_at IS NULL;

CREATE INDEX pending_ready_tenant ON "external_tasks".pending (topic, tenant_id, priority DESC, sequence)
      WHERE available_at IS NULL AND tenant_id IS NOT NULL;

CREATE INDEX pending_waiting ON "external_tasks".pending (topic, available_at) WHERE available_at IS NOT NULL;

CREATE INDEX pending_waiting_order ON "external_tasks".pending (topic, priority DESC, sequence)
      WHERE available_at > timestamptz '-infinity';

CREATE INDEX pending_worker ON "external_tasks".pending (worker_id, sequence) WHERE worker_id IS NOT NULL;

CREATE INDEX ended_state ON "external_tasks".ended (state, sequence);

CREATE INDEX ended_finished ON "external_tasks".ended (finished_at);

CREATE INDEX ended_incidents ON "external_tasks".ended (sequence) WHERE state = 'failed' AND incident IS TRUE;

CREATE INDEX ended_worker ON "external_tasks".ended (worker_id, sequence) WHERE worker_id IS NOT NULL;

DROP INDEX "external_tasks".tasks_ready, "external_tasks".tasks_ready_tenant, "external_tasks".tasks_waiting, "external_tasks".tasks_waiting_order,
      "external_tasks".tasks_state, "external_tasks".tasks_finished, "external_tasks".tasks_worker, "external_tasks".tasks_incidents;

ALTER TABLE "external_tasks".tasks DROP COLUMN available_at;

ALTER TABLE "external_tasks".tasks SET (fillfactor = 70);

ALTER TABLE "external_tasks".changes DROP COLUMN id;

ALTER TABLE "external_tasks".changes DROP CONSTRAINT changes_position_key, ADD PRIMARY KEY (position);
