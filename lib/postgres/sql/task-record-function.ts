/**
 * The SQL function `task_record(t)`: the record handed out and kept in the feed, which the library's
 * mapper (`lib/postgres/task-record.ts`) reads field by field. `extraFields` are the fields a later schema
 * version adds (`, 'name', t.column, …`); a later version replaces the function (`CREATE OR REPLACE`).
 */
export function taskRecordFunction(
  s: string,
  create: 'CREATE' | 'CREATE OR REPLACE',
  extraFields = '',
): string {
  return `${create} FUNCTION ${s}.task_record(t ${s}.tasks) RETURNS json LANGUAGE sql STABLE AS $$
      SELECT json_build_object(
        'id', t.id, 'topic', t.topic, 'flowNodeInstanceId', t.flow_node_instance_id,
        'correlationId', t.correlation_id, 'processInstanceId', t.process_instance_id,
        'processModelId', t.process_model_id, 'tenantId', t.tenant_id, 'identity', t.identity,
        'payload', t.payload, 'priority', t.priority, 'state', t.state, 'workerId', t.worker_id,
        'lockExpirationTime', ${s}.ms(t.lock_expires_at), 'createdAt', ${s}.ms(t.created_at),
        'finishedAt', ${s}.ms(t.finished_at), 'hasResult', t.result IS NOT NULL, 'result', t.result,
        'error', t.error, 'retries', t.retries, 'attempts', t.attempts, 'retryAt', ${s}.ms(t.retry_at),
        'incident', t.incident${extraFields})
    $$`;
}
