import type { Migration } from './migrations.js';
import type { SqlNames } from './names.js';
import { taskRecordFunction } from './task-record-function.js';

/**
 * Version 3: what the engine's controls need — idempotent creation and the operator's queries — on a
 * schema of version 2, keeping its tasks (every task stored before has no key).
 */
export const engineControlsMigration: Migration = {
  version: 3,
  description: 'idempotency keys, indexes for queries by worker and process model',
  statements: ({ schema: s }: SqlNames) => [
    `ALTER TABLE ${s}.tasks ADD COLUMN idempotency_key text`,
    // Idempotent creation: the key is unique among the stored tasks, so that the insert of a repeat
    // conflicts and answers the stored task (INSERT … ON CONFLICT), atomically also when two creates
    // race. Tasks without a key are not in the index.
    `CREATE UNIQUE INDEX tasks_idempotency_key ON ${s}.tasks (idempotency_key)
      WHERE idempotency_key IS NOT NULL`,
    // query by worker ("what does worker W hold, until when?"), in creation order. A claim writes
    // worker_id, so this index costs every claim one index entry; tasks never locked are not in it.
    `CREATE INDEX tasks_worker ON ${s}.tasks (worker_id, sequence) WHERE worker_id IS NOT NULL`,
    // query by process model, in creation order.
    `CREATE INDEX tasks_process_model ON ${s}.tasks (process_model_id, sequence)
      WHERE process_model_id IS NOT NULL`,
    // The record handed out and kept in the feed, now with the key (as version 1 wrote it, plus the key).
    taskRecordFunction(s, 'CREATE OR REPLACE', `, 'idempotencyKey', t.idempotency_key`),
  ],
};
