import type { Migration } from './migration.js';

/**
 * Version 8: the scheduling and the end of a task move out of the wide task table, so that its outcome is
 * written without touching an index. PostgreSQL writes an index entry in every index of a table at each
 * update unless no indexed column (key or partial-index predicate) changed (a HOT update); version 7 kept
 * the state, the worker and the lock in indexes of `tasks`, so each claim wrote 9 index entries and each
 * finish 8 (29 WAL records per task, see docs/postgres-plans.md). Now:
 *
 * - `tasks` keeps its columns and only the indexes of the columns fixed at creation (id, topic, process
 *   instance, flow node instance, correlation, tenant, process model, idempotency key); its fill factor
 *   leaves room on each page, so the writes of a claim and an outcome stay on the row's page (HOT).
 * - `pending`: one narrow row per pending task, with the scheduling indexes (ready in hand-out order, per
 *   tenant, waiting by time, waiting in hand-out order, by worker). A claim updates it; an outcome or a
 *   cancel deletes it; a retry, an unlock or a revival writes it.
 * - `ended`: one row per final task, inserted when it ends, with the indexes of the operator's queries
 *   (by state, incidents, by worker) and of the final-task retention (by end time).
 *
 * The feed's rows lose the identity `id` of version 1 (positions are given at recording since version 2):
 * `position` is their key, one index entry per change instead of two.
 *
 * Existing tasks are moved inside the migration's transaction, the task table locked first so that no
 * write of a process of version 7 lands between the copy and the switch. Processes of version 7 must be
 * stopped before: their statements name the indexes' columns this version drops and fail.
 */
export const pendingAndEnded: Migration = {
  version: 8,
  description: 'pending and ended tables beside the task table, outcomes written without index entries',
  statements: ({ schema: s }) => [
    `LOCK TABLE ${s}.tasks, ${s}.changes IN ACCESS EXCLUSIVE MODE`,
    `CREATE TABLE ${s}.pending (
      id uuid PRIMARY KEY,
      topic text NOT NULL,
      priority bigint NOT NULL,
      sequence bigint NOT NULL,
      tenant_id text,
      process_model_id text,
      worker_id text,
      -- NULL: available now. Otherwise when the task becomes available: its lock's expiry or its retry's due time.
      available_at timestamptz
    ) WITH (fillfactor = 70)`,
    `INSERT INTO ${s}.pending (id, topic, priority, sequence, tenant_id, process_model_id, worker_id, available_at)
      SELECT id, topic, priority, sequence, tenant_id, process_model_id, worker_id, coalesce(lock_expires_at, retry_at)
      FROM ${s}.tasks WHERE state = 'pending'`,
    `CREATE TABLE ${s}.ended (
      id uuid NOT NULL,
      sequence bigint NOT NULL,
      state text NOT NULL,
      worker_id text,
      finished_at timestamptz NOT NULL,
      incident boolean
    )`,
    `INSERT INTO ${s}.ended (id, sequence, state, worker_id, finished_at, incident)
      SELECT id, sequence, state, worker_id, coalesce(finished_at, created_at), incident
      FROM ${s}.tasks WHERE state <> 'pending'`,
    // The claim's ready tasks in hand-out order, per topic; per topic and tenant for a tenant list.
    `CREATE INDEX pending_ready ON ${s}.pending (topic, priority DESC, sequence) WHERE available_at IS NULL`,
    `CREATE INDEX pending_ready_tenant ON ${s}.pending (topic, tenant_id, priority DESC, sequence)
      WHERE available_at IS NULL AND tenant_id IS NOT NULL`,
    // The tasks waiting for a time, by that time: a range scan that stops at now.
    `CREATE INDEX pending_waiting ON ${s}.pending (topic, available_at) WHERE available_at IS NOT NULL`,
    // The same tasks in hand-out order, for the walk when many are due at once. Its predicate is one no
    // other statement's condition implies (a comparison with a constant that a claim's "available_at <=
    // now" does not prove), so that a claim's range of due tasks reads pending_waiting, never this.
    `CREATE INDEX pending_waiting_order ON ${s}.pending (topic, priority DESC, sequence)
      WHERE available_at > timestamptz '-infinity'`,
    `CREATE INDEX pending_worker ON ${s}.pending (worker_id, sequence) WHERE worker_id IS NOT NULL`,
    `CREATE INDEX ended_state ON ${s}.ended (state, sequence)`,
    `CREATE INDEX ended_finished ON ${s}.ended (finished_at)`,
    `CREATE INDEX ended_incidents ON ${s}.ended (sequence) WHERE state = 'failed' AND incident IS TRUE`,
    `CREATE INDEX ended_worker ON ${s}.ended (worker_id, sequence) WHERE worker_id IS NOT NULL`,
    `DROP INDEX ${s}.tasks_ready, ${s}.tasks_ready_tenant, ${s}.tasks_waiting, ${s}.tasks_waiting_order,
      ${s}.tasks_state, ${s}.tasks_finished, ${s}.tasks_worker, ${s}.tasks_incidents`,
    `ALTER TABLE ${s}.tasks DROP COLUMN available_at`,
    `ALTER TABLE ${s}.tasks SET (fillfactor = 70)`,
    `ALTER TABLE ${s}.changes DROP COLUMN id`,
    `ALTER TABLE ${s}.changes DROP CONSTRAINT changes_position_key, ADD PRIMARY KEY (position)`,
  ],
};
