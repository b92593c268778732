import type { SqlNames } from './names.js';
import { recordChanges } from './record-changes.js';
import { announceAvailability } from './scope.js';

/**
 * Stores new pending tasks in one statement, in the given order (the identity `sequence` is taken as the
 * rows are inserted, sorted by their index), records a `created` change for each, and hints every topic
 * as available now.
 *
 * $1 the injected time in ms (NULL: the database's clock); $2 a JSON array of tasks, each with its index
 * `i` and the fields of a checked new task. Answers one row per task, in order: `record`.
 */
export function createTasks({ schema: s }: SqlNames, retention: number): string {
  return `
WITH clock AS (SELECT ${s}.clock($1) AS now),
created AS (
  INSERT INTO ${s}.tasks (topic, flow_node_instance_id, correlation_id, process_instance_id,
                          process_model_id, tenant_id, identity, payload, priority, retries, created_at)
  SELECT n.topic, n."flowNodeInstanceId", n."correlationId", n."processInstanceId", n."processModelId",
         n."tenantId", n.identity, coalesce(n.payload, 'null'::json), n.priority, n.retries, clock.now
  FROM json_to_recordset($2::json) AS n(i integer, topic text, "flowNodeInstanceId" text,
         "correlationId" text, "processInstanceId" text, "processModelId" text, "tenantId" text,
         identity json, payload json, priority bigint, retries integer), clock
  ORDER BY n.i
  RETURNING topic, 0::bigint AS delay, sequence, ${s}.task_record(tasks) AS record
)
SELECT record, ${announceAvailability(s, 'created')} AS hinted,
  ${recordChanges(s, retention, "SELECT 'created' AS type, record AS task, sequence FROM created", 'sequence')} AS recorded
FROM created ORDER BY sequence`;
}
