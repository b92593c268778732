import type { ExternalTaskQuery } from '../../repository/index.js';

/** The columns a query filter names, and the task column each one matches. */
const queryColumns = {
  state: 'state',
  topic: 'topic',
  tenantId: 'tenant_id',
  processInstanceId: 'process_instance_id',
  correlationId: 'correlation_id',
  flowNodeInstanceId: 'flow_node_instance_id',
} as const;

/**
 * The `WHERE` condition of a checked query filter over the tasks aliased `t`, with its parameters, and
 * the placeholders of the page's limit and offset (appended after them). Every value is a parameter.
 */
export function queryFilter(
  filter: ExternalTaskQuery,
  limit: number,
  offset: number,
): { where: string; limit: string; offset: string; params: unknown[] } {
  const params: unknown[] = [];
  const conditions: string[] = [];
  for (const [field, column] of Object.entries(queryColumns)) {
    const value = filter[field as keyof typeof queryColumns];
    if (value === undefined) continue;
    params.push(value);
    conditions.push(`t.${column} = $${params.length}`);
  }
  if (filter.incident !== undefined) {
    conditions.push(`t.state = 'failed' AND t.incident IS ${filter.incident ? '' : 'NOT '}TRUE`);
  }
  params.push(limit, offset);
  return {
    where: conditions.length === 0 ? 'true' : conditions.join(' AND '),
    limit: `$${params.length - 1}`,
    offset: `$${params.length}`,
    params,
  };
}
