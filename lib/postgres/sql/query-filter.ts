import type { ValidQuery } from '../../repository/repository-arguments.js';
import type { SqlNames } from './names.js';

/** The single-valued fields of a query, and the task column each one matches (each has an index). */
const idColumns = {
  tenantId: 'tenant_id',
  processModelId: 'process_model_id',
  processInstanceId: 'process_instance_id',
  correlationId: 'correlation_id',
  flowNodeInstanceId: 'flow_node_instance_id',
  workerId: 'worker_id',
} as const;

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
  if (query.states !== undefined) conditions.push(`t.state = ANY(${parameter(query.states)}::text[])`);
  if (query.topics !== undefined) conditions.push(`t.topic = ANY(${parameter(query.topics)}::text[])`);
  for (const [field, column] of Object.entries(idColumns)) {
    const value = query[field as keyof typeof idColumns];
    if (value !== undefined) conditions.push(`t.${column} = ${parameter(value)}`);
  }
  if (query.incident !== undefined) {
    conditions.push(`t.state = 'failed' AND t.incident IS ${query.incident ? '' : 'NOT '}TRUE`);
  }
  if (query.locked !== undefined) {
    const holds = `t.lock_expires_at > ${s}.clock(${parameter(now)}::bigint)`;
    conditions.push(`t.state = 'pending' AND ${query.locked ? holds : `NOT coalesce(${holds}, false)`}`);
  }
  return {
    where: conditions.length === 0 ? 'true' : conditions.join(' AND '),
    limit: parameter(query.limit),
    offset: parameter(query.offset),
    params,
  };
}
