import type { ValidQuery } from '../../repository/repository-arguments.js';
import type { SqlNames } from './names.js';

/** The single-valued fields of a query fixed at creation, and the task column each one matches (each has an index). */
const idColumns = {
  tenantId: 'tenant_id',
  processModelId: 'process_model_id',
  processInstanceId: 'process_instance_id',
  correlationId: 'correlation_id',
  flowNodeInstanceId: 'flow_node_instance_id',
} as const;

/**
 * The tasks whose `pending` or `ended` rows `places` picks (a query of `id`s), as a condition on `t`: a
 * primary-key lookup per task those rows' indexes find. The columns that change after creation (state,
 * worker, lock, incident) are indexed there, not on `tasks` (schema version 8), so a condition on them
 * reads those indexes; the task's own columns are checked as well, so the rows match what the task says.
 */
function placedIn(places: string): string {
  return `t.id = ANY(ARRAY(${places}))`;
}

/**
 * The `WHERE` condition of a checked query over the tasks aliased `t`, with its parameters, and the
 * placeholders of the page's limit and offset (appended after them). Every value is a parameter; lists
 * of states and topics are `= ANY($n)`, which the indexes on state and topic answer. `locked` compares
 * with the store's time `now` (the injected clock's, or NULL for the database's).
 */
export function queryFilter(
  { schema: s }: SqlNames,
  query: ValidQuery,
  now: number | null,
): { where: string; limit: string; offset: string; params: unknown[] } {
  const params: unknown[] = [];
  const conditions: string[] = [];
  const parameter = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  if (query.states !== undefined) {
    const states = parameter(query.states);
    conditions.push(
      `t.state = ANY(${states}::text[])`,
      placedIn(
        `SELECT id FROM ${s}.ended WHERE state = ANY(${states}::text[]) ` +
          `UNION ALL SELECT id FROM ${s}.pending WHERE 'pending' = ANY(${states}::text[])`,
      ),
    );
  }
  if (query.topics !== undefined) conditions.push(`t.topic = ANY(${parameter(query.topics)}::text[])`);
  for (const [field, column] of Object.entries(idColumns)) {
    const value = query[field as keyof typeof idColumns];
    if (value !== undefined) conditions.push(`t.${column} = ${parameter(value)}`);
  }
  if (query.workerId !== undefined) {
    const worker = parameter(query.workerId);
    conditions.push(
      `t.worker_id = ${worker}`,
      placedIn(
        `SELECT id FROM ${s}.pending WHERE worker_id = ${worker} ` +
          `UNION ALL SELECT id FROM ${s}.ended WHERE worker_id = ${worker}`,
      ),
    );
  }
  if (query.incident !== undefined) {
    const incident = `state = 'failed' AND incident IS ${query.incident ? '' : 'NOT '}TRUE`;
    conditions.push(`t.${incident}`, placedIn(`SELECT id FROM ${s}.ended WHERE ${incident}`));
  }
  if (query.locked !== undefined) {
    const time = parameter(now);
    const holds = `t.lock_expires_at > ${s}.clock(${time}::bigint)`;
    conditions.push(`t.state = 'pending' AND ${query.locked ? holds : `NOT coalesce(${holds}, false)`}`);
    const held = `worker_id IS NOT NULL AND available_at > ${s}.clock(${time}::bigint)`;
    conditions.push(
      placedIn(`SELECT id FROM ${s}.pending WHERE ${query.locked ? held : `NOT coalesce(${held}, false)`}`),
    );
  }
  return {
    where: conditions.length === 0 ? 'true' : conditions.join(' AND '),
    limit: parameter(query.limit),
    offset: parameter(query.offset),
    params,
  };
}
