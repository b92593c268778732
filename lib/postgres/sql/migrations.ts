import { announceAvailabilityQuery } from './announce-availability-function.js';
import { dueOrderMigration } from './due-order-migration.js';
import { engineControlsMigration } from './engine-controls-migration.js';
import { hintsInPlpgsql } from './hints-migration.js';
import { incidentsMigration } from './incidents-migration.js';
import { positionsAtRecording } from './positions-migration.js';
import type { SqlNames } from './names.js';
import { taskRecordFunction } from './task-record-function.js';
import { tenantReadyMigration } from './tenant-ready-migration.js';

/** One step of the schema's history: applied once, in order, inside the migration transaction. */
export interface Migration {
  readonly version: number;
  readonly description: string;
  /** The statements of the step, run one after the other. */
  statements(names: SqlNames): readonly string[];
}

/** Version 1: the task table, the change feed's outbox, and the functions the statements share. */
const taskTables: Migration = {
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
    taskRecordFunction(s, 'CREATE'),
    // Availability hints of one statement (see announce-availability-function.ts).
    `CREATE FUNCTION ${s}.announce_availability(topics text[], delays bigint[]) RETURNS bigint
    LANGUAGE sql VOLATILE AS $$${announceAvailabilityQuery(channel)}
    $$`,
  ],
};

/** Every migration, oldest first. A new version is appended here, never edited into an old one. */
export const migrations: readonly Migration[] = [
  taskTables,
  positionsAtRecording,
  engineControlsMigration,
  hintsInPlpgsql,
  incidentsMigration,
  dueOrderMigration,
  tenantReadyMigration,
];
