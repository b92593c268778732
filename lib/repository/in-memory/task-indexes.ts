import type { ExternalTaskState } from '../../model/index.js';
import type { ExternalTaskQuery } from '../external-task-repository.js';
import type { StoredTask } from './stored-task.js';

type IndexedField =
  'topic' | 'tenantId' | 'processInstanceId' | 'correlationId' | 'flowNodeInstanceId' | 'state';

const indexedFields: readonly IndexedField[] = [
  'flowNodeInstanceId',
  'processInstanceId',
  'correlationId',
  'tenantId',
  'topic',
  'state',
];

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

  /** Re-files `task` after its state changed from `previous`. */
  changeState(task: StoredTask, previous: ExternalTaskState): void {
    this.delete('state', previous, task);
    this.insert('state', task.state, task);
  }

  /** The tasks whose `field` is `value`. */
  find(field: IndexedField, value: string): ReadonlySet<StoredTask> {
    const entry = this.index(field).get(value);
    if (entry === undefined) return new Set();
    return entry instanceof Set ? entry : new Set([entry]);
  }

  /** The smallest index set that `filter` restricts to, or `undefined` if it names no indexed field. */
  candidates(filter: ExternalTaskQuery): ReadonlySet<StoredTask> | undefined {
    let smallest: ReadonlySet<StoredTask> | undefined;
    for (const field of indexedFields) {
      const value = filter[field];
      if (value === undefined) continue;
      const tasks = this.find(field, value);
      if (!smallest || tasks.size < smallest.size) smallest = tasks;
    }
    return smallest;
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

/** Whether `task` matches every field `filter` gives. */
export function matches(task: StoredTask, filter: ExternalTaskQuery): boolean {
  return (
    indexedFields.every((field) => filter[field] === undefined || filter[field] === task[field]) &&
    (filter.incident === undefined ||
      (task.state === 'failed' && (task.incident === true) === filter.incident))
  );
}
