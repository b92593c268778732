import type { ValidNewTask } from '../../repository/repository-arguments.js';
import type { SqlNames } from './names.js';
import { recordChanges } from './record-changes.js';
import { announceAvailability } from './scope.js';

/**
 * Stores new pending tasks in one statement, in the given order (each task's `sequence`, its place in the
 * hand-out order, is taken in the order of its index), queues each new one (its row of `pending`), records
 * a `created` change for each, and hints every topic as available now.
 *
 * Idempotency keys: of the tasks of one call with the same key only the first is inserted; an insert
 * whose key a stored task has conflicts on the unique index `tasks_idempotency_key` and answers that task
 * instead (`ON CONFLICT … DO UPDATE` with an assignment that changes nothing, because unlike `DO NOTHING`
 * it returns the stored row — also one a concurrent create committed after this statement's snapshot:
 * the insert waits for it, then returns it). A row is new when it has the id this statement proposed for
 * it; only new rows record a change and make a hint. Each task finds its row by its key, or by its
 * proposed id when it has none (one hashable equality, so a call of 1,000 tasks is no 1,000² loop).
 *
 * Lock order: a conflict locks the stored task, and an insert waits for a concurrent insert of its key.
 * So the stored tasks of the keys given are locked first, in id order (as the shared writes and cancels
 * lock theirs), and the rows are then inserted in key order: two creates of the same keys in any
 * orders, or a repeat and a cancel of its tasks, wait for each other instead of deadlocking.
 *
 * $1 the injected time in ms (NULL: the database's clock); $2 a JSON array of tasks, each with its index
 * `i` and the fields of a checked new task, its payload and identity as JSON text: read as a `json`
 * column of the recordset they would be unescaped to text, which no `\u0000` and no unpaired surrogate
 * survives, while the `json` type keeps them as they were given. Answers one row per task, in order: `record`.
 */
export function createTasks({ schema: s }: SqlNames, retention: number): string {
  return `
WITH clock AS (SELECT ${s}.clock($1) AS now),
given AS MATERIALIZED (
  SELECT n.*, gen_random_uuid() AS proposed_id,
         CASE WHEN n."idempotencyKey" IS NULL THEN n.i
              ELSE min(n.i) OVER (PARTITION BY n."idempotencyKey") END AS first_i
  FROM json_to_recordset($2::json) AS n(i integer, topic text, "flowNodeInstanceId" text,
         "correlationId" text, "processInstanceId" text, "processModelId" text, "tenantId" text,
         identity text, payload text, priority bigint, retries integer, "idempotencyKey" text)
),
existing AS MATERIALIZED (
  SELECT t.id FROM ${s}.tasks t
  WHERE t.idempotency_key = ANY(ARRAY(SELECT "idempotencyKey" FROM given WHERE "idempotencyKey" IS NOT NULL))
  ORDER BY t.id
  FOR UPDATE OF t
),
numbered AS MATERIALIZED (
  SELECT g.*, nextval(pg_get_serial_sequence('${s}.tasks', 'sequence')) AS sequence
  FROM (SELECT * FROM given WHERE i = first_i ORDER BY i) AS g
),
stored AS (
  INSERT INTO ${s}.tasks (id, sequence, topic, flow_node_instance_id, correlation_id, process_instance_id,
                          process_model_id, tenant_id, identity, payload, priority, retries,
                          idempotency_key, created_at)
  OVERRIDING SYSTEM VALUE
  SELECT g.proposed_id, g.sequence, g.topic, g."flowNodeInstanceId", g."correlationId",
         g."processInstanceId", g."processModelId", g."tenantId", g.identity::json, coalesce(g.payload::json, 'null'::json),
         g.priority, g.retries, g."idempotencyKey", clock.now
  FROM numbered g, clock
  WHERE (SELECT count(*) FROM existing) >= 0
  ORDER BY g."idempotencyKey" COLLATE "C", g.i
  ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL
    DO UPDATE SET idempotency_key = excluded.idempotency_key
  RETURNING id, topic, priority, tenant_id, process_model_id, 0::bigint AS delay, sequence, idempotency_key,
            ${s}.task_record(tasks) AS record
),
created AS (
  SELECT stored.* FROM stored WHERE stored.id IN (SELECT proposed_id FROM given)
),
queued AS (
  INSERT INTO ${s}.pending (id, topic, priority, sequence, tenant_id, process_model_id)
  SELECT id, topic, priority, sequence, tenant_id, process_model_id FROM created
)
SELECT stored.record, ${announceAvailability(s, 'created')} AS hinted,
  ${recordChanges(s, retention, "SELECT 'created' AS type, record AS task, sequence FROM created", 'sequence')} AS recorded
FROM given g JOIN stored
  ON coalesce('k:' || g."idempotencyKey", 'i:' || g.proposed_id) = coalesce('k:' || stored.idempotency_key, 'i:' || stored.id)
ORDER BY g.i`;
}

/**
 * The tasks parameter ($2) of {@link createTasks}: each checked task with its index `i`, its payload and
 * identity as JSON text (see there why).
 */
export function newTasksParameter(tasks: readonly ValidNewTask[]): string {
  return JSON.stringify(
    tasks.map((task, i) => ({
      i,
      ...task,
      payload: JSON.stringify(task.payload),
      identity: task.identity === undefined ? undefined : JSON.stringify(task.identity),
    })),
  );
}
