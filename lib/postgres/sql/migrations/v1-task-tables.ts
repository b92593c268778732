import type { Migration } from './migration.js';

/** Version 1: the task table, the change feed's outbox, and the functions the statements share. */
export const taskTables: Migration = {
  version: 1,
  description: 'tasks, change feed outbox, shared functions',
  statements: ({ schema: s, channel }) => [
    `CREATE TABLE ${s}.tasks (
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
    )`,
    // The claim's first branch: the tasks available without a time, in hand-out order, per topic. A claim
    // reads the first maxTasks entries of each topic (an index range scan with a LIMIT); locked, waiting
    // and final tasks are not in this index at all, however many there are.
    `CREATE INDEX tasks_ready ON ${s}.tasks (topic, priority DESC, sequence)
      WHERE state = 'pending' AND available_at IS NULL`,
    // The claim's second branch (locks expired, retries due: available_at <= now) and msUntilNextAvailable
    // (the earliest available_at): a range scan that stops at now, so locks still held are never visited.
    // Also serves the locked/retrying counts.
    `CREATE INDEX tasks_waiting ON ${s}.tasks (topic, available_at)
      WHERE state = 'pending' AND available_at IS NOT NULL`,
    // query by topic, in creation order, and countByTopic.
    `CREATE INDEX tasks_topic ON ${s}.tasks (topic, sequence)`,
    // query by state (e.g. every failed task), in creation order.
    `CREATE INDEX tasks_state ON ${s}.tasks (state, sequence)`,
    // cancel and query by process instance, flow node instance and correlation; query and count by tenant.
    `CREATE INDEX tasks_process_instance ON ${s}.tasks (process_instance_id)`,
    `CREATE INDEX tasks_flow_node_instance ON ${s}.tasks (flow_node_instance_id)`,
    `CREATE INDEX tasks_correlation ON ${s}.tasks (correlation_id)`,
    `CREATE INDEX tasks_tenant ON ${s}.tasks (tenant_id, topic) WHERE tenant_id IS NOT NULL`,
    // The final-task retention deletes the oldest final tasks first.
    `CREATE INDEX tasks_finished ON ${s}.tasks (finished_at) WHERE state <> 'pending'`,
    // The change feed's outbox. Writers insert rows without a position (an identity id is taken at insert
    // time, not at commit time, so ids are NOT in commit order and a reader of "id > last" could skip a
    // row that commits late). The sequencer gives positions to the committed rows, one run at a time.
    `CREATE TABLE ${s}.changes (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      position bigint UNIQUE,
      type text NOT NULL,
      task json NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT now()
    )`,
    // The sequencer finds the rows still without a position without scanning the retained feed.
    `CREATE INDEX changes_unsequenced ON ${s}.changes (id) WHERE position IS NULL`,
    // The feed's ends: the last position given, and the last one pruned (a resume must come after it).
    `CREATE TABLE ${s}.feed (
      singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
      sequenced_through bigint NOT NULL DEFAULT 0,
      pruned_through bigint NOT NULL DEFAULT 0
    )`,
    `INSERT INTO ${s}.feed DEFAULT VALUES`,
    // Every statement that records changes wakes the sequencers: one notification per statement.
    `CREATE FUNCTION ${s}.announce_changes() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM recorded) THEN
        PERFORM pg_notify(${channel}, 'c');
      END IF;
      RETURN NULL;
    END $$`,
    `CREATE TRIGGER changes_announce AFTER INSERT ON ${s}.changes
      REFERENCING NEW TABLE AS recorded FOR EACH STATEMENT EXECUTE FUNCTION ${s}.announce_changes()`,
    // "Now" of a statement: the injected clock's time when one is given, else the database's clock, in ms.
    `CREATE FUNCTION ${s}.clock(injected_ms bigint) RETURNS timestamptz LANGUAGE sql STABLE AS $$
      SELECT coalesce(timestamptz 'epoch' + injected_ms * interval '1 millisecond',
                      date_trunc('milliseconds', now()))
    $$`,
    `CREATE FUNCTION ${s}.ms(at timestamptz) RETURNS bigint LANGUAGE sql STABLE AS $$
      SELECT (extract(epoch FROM at) * 1000)::bigint
    $$`,
    // The record handed out and kept in the feed; the library's mapper reads exactly these fields.
    `CREATE FUNCTION ${s}.task_record(t ${s}.tasks) RETURNS json LANGUAGE sql STABLE AS $$
      SELECT json_build_object(
        'id', t.id, 'topic', t.topic, 'flowNodeInstanceId', t.flow_node_instance_id,
        'correlationId', t.correlation_id, 'processInstanceId', t.process_instance_id,
        'processModelId', t.process_model_id, 'tenantId', t.tenant_id, 'identity', t.identity,
        'payload', t.payload, 'priority', t.priority, 'state', t.state, 'workerId', t.worker_id,
        'lockExpirationTime', ${s}.ms(t.lock_expires_at), 'createdAt', ${s}.ms(t.created_at),
        'finishedAt', ${s}.ms(t.finished_at), 'hasResult', t.result IS NOT NULL, 'result', t.result,
        'error', t.error, 'retries', t.retries, 'attempts', t.attempts, 'retryAt', ${s}.ms(t.retry_at),
        'incident', t.incident)
    $$`,
    // Availability hints of one statement: one per topic (the smallest delay, the number of tasks), sent as
    // 'h' + a JSON array of [topic, delay, count], split so that no payload passes PostgreSQL's 8000 bytes
    // (a hint is at most about 1,600 bytes: a topic of 255 characters, escaped). Answers how many
    // notifications it sent.
    `CREATE FUNCTION ${s}.announce_availability(topics text[], delays bigint[]) RETURNS bigint
    LANGUAGE sql VOLATILE AS $$
      WITH hints AS (
        SELECT json_build_array(topic, min(delay), count(*))::text AS hint
        FROM unnest(topics, delays) AS h(topic, delay) GROUP BY topic
      ), chunked AS (
        SELECT hint, sum(octet_length(hint) + 1) OVER (ORDER BY hint ROWS UNBOUNDED PRECEDING) / 6000 AS chunk
        FROM hints
      )
      SELECT count(*) FROM (
        SELECT pg_notify(${channel}, 'h[' || string_agg(hint, ',') || ']') FROM chunked GROUP BY chunk
      ) AS sent
    $$`,
  ],
};
