/**
 * The scope rule of `lib/repository/task-scope.ts` (`inScope`) as a SQL condition on the task `alias`:
 * every list given (a `text[]` parameter, NULL when the scope leaves it out) must contain the task's
 * value; a task without a value is in no list, and an empty list sees nothing.
 */
export function scopeCondition(alias: string, tenantIds: string, processModelIds: string): string {
  return (
    `(${tenantIds}::text[] IS NULL OR ${alias}.tenant_id = ANY(${tenantIds}::text[])) AND ` +
    `(${processModelIds}::text[] IS NULL OR ${alias}.process_model_id = ANY(${processModelIds}::text[]))`
  );
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
