import type { ExternalTask } from './external-task.js';

/** A Date whose value cannot change: every setter throws, as a frozen object's assignments do. */
class FrozenDate extends Date {}
for (const name of Object.getOwnPropertyNames(Date.prototype)) {
  if (!name.startsWith('set')) continue;
  Object.defineProperty(FrozenDate.prototype, name, {
    value(this: Date): never {
      throw new TypeError(`Cannot change a date of a frozen task record (Date.prototype.${name}).`);
    },
  });
}
Object.freeze(FrozenDate.prototype);

/** A Date of `time` (ms since the epoch) that cannot be changed: frozen, and every setter throws. */
export function frozenDate(time: number): Date {
  return Object.freeze(new FrozenDate(time));
}

/**
 * A frozen copy of `task` whose dates cannot be changed either: what the library hands to listeners and
 * waiters, so that none of them can change what another receives. (`payload`, `result` and `error` are
 * deeply frozen already.)
 */
export function frozenRecord(task: ExternalTask): ExternalTask {
  const copy: Record<string, unknown> = { ...task };
  for (const [key, value] of Object.entries(copy)) {
    if (value instanceof Date) copy[key] = frozenDate(value.getTime());
  }
  return Object.freeze(copy) as unknown as ExternalTask;
}
