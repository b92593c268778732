import type { TaskScope } from './external-task-repository.js';

/**
 * The fields of a task a {@link TaskScope} selects by.
 * @inline
 */
export interface ScopedFields {
  readonly tenantId?: string | undefined;
  readonly processModelId?: string | undefined;
}

/**
 * Whether a task is in `scope` (everything is in no scope): every list the scope gives must contain the
 * task's value, so a task without a tenant is outside a scope that lists tenants. The one definition of
 * scope; a SQL store states the same rule in its `WHERE` clause.
 */
export function inScope(task: ScopedFields, scope: TaskScope | undefined): boolean {
  if (!scope) return true;
  const { tenantIds, processModelIds } = scope;
  return (
    (tenantIds === undefined || (task.tenantId !== undefined && tenantIds.includes(task.tenantId))) &&
    (processModelIds === undefined ||
      (task.processModelId !== undefined && processModelIds.includes(task.processModelId)))
  );
}

/**
 * Whether everything `inner` sees, `outer` sees too. A long poll that found nothing under `outer` knows
 * that a waiter scoped to `inner` would find nothing either.
 */
export function scopeCovers(outer: TaskScope | undefined, inner: TaskScope | undefined): boolean {
  if (!outer) return true;
  if (!inner) return false;
  const listCovers = (o: readonly string[] | undefined, i: readonly string[] | undefined): boolean =>
    o === undefined || (i !== undefined && i.every((value) => o.includes(value)));
  return (
    listCovers(outer.tenantIds, inner.tenantIds) && listCovers(outer.processModelIds, inner.processModelIds)
  );
}
