/**
 * The scope rule of `lib/repository/task-scope.ts` (`inScope`) as a SQL condition on the task `alias`:
 * every list given (a `text[]` parameter, NULL when the scope leaves it out) must contain the task's
 * value; a task without a value is in no list (`= ANY` is NULL, so the list's own NULL test decides:
 * false), and an empty list sees nothing.
 *
 * Written as `coalesce(value = ANY(list), list IS NULL)` rather than `list IS NULL OR value = ANY(list)`:
 * the store's generic plans cannot know the list, and PostgreSQL estimates `$n IS NULL` at 0.5 % — so
 * the OR form made the claim's planner expect one task in a topic of 40,000 ready ones, and sort them
 * all after a sequential scan instead of reading the first few from `pending_ready` (docs/postgres-plans.md has the figures
 * instead of under one, growing with the backlog). The coalesce is estimated as an unknown condition.
 */
export function scopeCondition(alias: string, tenantIds: string, processModelIds: string): string {
  return (
    `coalesce(${alias}.tenant_id = ANY(${tenantIds}::text[]), ${tenantIds}::text[] IS NULL) AND ` +
    `coalesce(${alias}.process_model_id = ANY(${processModelIds}::text[]), ${processModelIds}::text[] IS NULL)`
  );
}

/**
 * The rows of `query(tenantCondition)` (a query on the tasks `t`, which appends `tenantCondition` to its
 * WHERE) in the scope's tenant list `tenantIds` (a `text[]` parameter), one of two ways, each under a
 * one-time condition so that the other is never executed: with no list, `query('')` as it is; with a
 * list, `query` once for each distinct tenant of it, side by side — so that a scope of few tasks in a
 * topic with a large backlog of other tenants reads that tenant's own entries of `pending_ready_tenant`
 * (schema version 7) instead of walking the whole backlog with `scopeCondition` as a filter. Exactly the
 * tasks the filter would keep: NULL in the list matches no task (`=` is NULL), a task without a tenant is
 * in no index entry, and an empty list gives no tenant.
 */
export function ofTenantScope(tenantIds: string, query: (tenantCondition: string) => string): string {
  return `
    -- No tenant list: the query as it is.
    SELECT * FROM (${query('')}
    ) everyone WHERE ${tenantIds}::text[] IS NULL
    UNION ALL
    -- A tenant list: the query once for each tenant of it, reading that tenant's own index entries.
    SELECT of_tenant.* FROM (SELECT DISTINCT tenant FROM unnest(${tenantIds}::text[]) AS listed(tenant)) scope
    CROSS JOIN LATERAL (${query(' AND t.tenant_id = scope.tenant')}
    ) of_tenant`;
}

/**
 * Sends the availability hints of the rows of `source` (a CTE with `topic` and `delay`; rows whose
 * delay is NULL make no hint): a scalar sub-select for the statement's final SELECT list.
 */
export function announceAvailability(schema: string, source: string): string {
  return (
    `(SELECT ${schema}.announce_availability(array_agg(topic), array_agg(delay)) ` +
    `FROM ${source} WHERE delay IS NOT NULL)`
  );
}
