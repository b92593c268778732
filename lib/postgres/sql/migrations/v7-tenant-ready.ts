import type { Migration } from './migration.js';

/**
 * Version 7: the tasks available without a time, in hand-out order, per topic AND tenant. A claim (and
 * msUntilNextAvailable) scoped to a list of tenants reads each tenant's own first entries (see
 * `ofTenantScope` in `scope.ts`) instead of walking the topic's entries of `tasks_ready` past every
 * other tenant's backlog. Tasks without a tenant, in no scope's list, have no entry. Only a statement
 * that names the tenant with `=` can use it (its predicate asks `tenant_id IS NOT NULL`), so adding it
 * leaves the statements of a process of version 6 as they were.
 */
export const tenantReady: Migration = {
  version: 7,
  description: 'index of the ready tasks per tenant in hand-out order',
  statements: ({ schema: s }) => [
    `CREATE INDEX tasks_ready_tenant ON ${s}.tasks (topic, tenant_id, priority DESC, sequence)
      WHERE state = 'pending' AND available_at IS NULL AND tenant_id IS NOT NULL`,
  ],
};
