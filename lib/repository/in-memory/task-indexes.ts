import type { ValidQuery } from '../repository-arguments.js';
import type { StoredTask } from './stored-task.js';

type IndexedField =
  | 'topic'
  | 'tenantId'
  | 'processModelId'
  | 'processInstanceId'
  | 'correlationId'
  | 'flowNodeInstanceId'
  | 'workerId'
  | 'state';

const indexedFields: readonly IndexedField[] = [
  'flowNodeInstanceId',
  'processInstanceId',
  'correlationId',
  'tenantId',
  'processModelId',
  'workerId',
  'topic',
  'state',
];

/** The fields a task's record may change after creation; the store re-files the task when it does. */
type ChangingField = 'state' | 'workerId';

/** The tasks with one value of a field: most instance ids have a single task, kept without a Set. */
type Entry = StoredTask | Set<StoredTask>;

/**
 * Secondary indexes of the in-memory store: for each queryable field, the tasks per value. Queries and
 * cancellation start from the smallest matching index instead of scanning every task.
 */
export class TaskIndexes {
  private readonly indexes = new Map<IndexedField, Map<string, Entry>>(
    indexedFields.map((field) => [field, new Map()]),
  );

  add(task: StoredTask): void {
    for (const field of indexedFields) this.insert(field, task[field], task);
  }

  /** Takes `task` out of every index. */
  remove(task: StoredTask): void {
    for (const field of indexedFields) this.delete(field, task[field], task);
  }

  /** Re-files `task` after its `field` changed from `previous`. */
  refile(task: StoredTask, field: ChangingField, previous: string | undefined): void {
    if (previous === task[field]) return;
    this.delete(field, previous, task);
    this.insert(field, task[field], task);
  }

  /** The tasks whose `field` is `value`. */
  find(field: IndexedField, value: string): ReadonlySet<StoredTask> {
    const entry = this.index(field).get(value);
    if (entry === undefined) return new Set();
    return entry instanceof Set ? entry : new Set([entry]);
  }

  /**
   * The smallest candidate set that `query` restricts to — one field's tasks, or for a list of states or
   * topics the tasks of any of them — or `undefined` if it names no indexed field.
   */
  candidates(query: ValidQuery): Iterable<StoredTask> | undefined {
    const restrictions: { size: number; tasks: () => Iterable<StoredTask> }[] = [];
    for (const field of indexedFields) {
      const values = field === 'state' ? query.states : field === 'topic' ? query.topics : query[field];
      if (values === undefined) continue;
      const sets = (typeof values === 'string' ? [values] : [...new Set(values)]).map((value) =>
        this.find(field, value),
      );
      const size = sets.reduce((sum, tasks) => sum + tasks.size, 0);
      restrictions.push({ size, tasks: () => sets.flatMap((tasks) => [...tasks]) });
    }
    if (restrictions.length === 0) return undefined;
    return restrictions.reduce((smallest, next) => (next.size < smallest.size ? next : smallest)).tasks();
  }

  /** Files `task` under `value`; a task without a value (no tenant) is in no entry of that index. */
  private insert(field: IndexedField, value: string | undefined, task: StoredTask): void {
    if (value === undefined) return;
    const index = this.index(field);
    const entry = index.get(value);
    if (entry === undefined) index.set(value, task);
    else if (entry instanceof Set) entry.add(task);
    else index.set(value, new Set([entry, task]));
  }

  private delete(field: IndexedField, value: string | undefined, task: StoredTask): void {
    if (value === undefined) return;
    const index = this.index(field);
    const entry = index.get(value);
    if (entry === task) index.delete(value);
    else if (entry instanceof Set) {
      entry.delete(task);
      if (entry.size === 0) index.delete(value);
    }
  }

  private index(field: IndexedField): Map<string, Entry> {
    return this.indexes.get(field) as Map<string, Entry>;
  }
}

/** Whether `task` matches every field `query` gives, at the store's time `now`. */
export function matches(task: StoredTask, query: ValidQuery, now: number): boolean {
  const lockHolds = task.lockExpirationTime !== undefined && task.lockExpirationTime > now;
  return (
    indexedFields.every((field) => {
      if (field === 'state') return query.states === undefined || query.states.includes(task.state);
      if (field === 'topic') return query.topics === undefined || query.topics.includes(task.topic);
      return query[field] === undefined || query[field] === task[field];
    }) &&
    (query.incident === undefined ||
      (task.state === 'failed' && (task.incident === true) === query.incident)) &&
    (query.locked === undefined || (task.state === 'pending' && lockHolds === query.locked))
  );
}
