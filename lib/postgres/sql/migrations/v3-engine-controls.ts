import type { Migration } from './migration.js';
import type { SqlNames } from '../names.js';

/**
 * Version 3: what the engine's controls need — idempotent creation and the operator's queries — on a
 * schema of version 2, keeping its tasks (every task stored before has no key).
 */
export const engineControls: Migration = {
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
    `CREATE OR REPLACE FUNCTION ${s}.task_record(t ${s}.tasks) RETURNS json LANGUAGE sql STABLE AS $$
      SELECT json_build_object(
        'id', t.id, 'topic', t.topic, 'flowNodeInstanceId', t.flow_node_instance_id,
        'correlationId', t.correlation_id, 'processInstanceId', t.process_instance_id,
        'processModelId', t.process_model_id, 'tenantId', t.tenant_id, 'identity', t.identity,
        'payload', t.payload, 'priority', t.priority, 'state', t.state, 'workerId', t.worker_id,
        'lockExpirationTime', ${s}.ms(t.lock_expires_at), 'createdAt', ${s}.ms(t.created_at),
        'finishedAt', ${s}.ms(t.finished_at), 'hasResult', t.result IS NOT NULL, 'result', t.result,
        'error', t.error, 'retries', t.retries, 'attempts', t.attempts, 'retryAt', ${s}.ms(t.retry_at),
        'incident', t.incident, 'idempotencyKey', t.idempotency_key)
    $$`,
  ],
};
