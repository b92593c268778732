import type { ValidQuery } from '../repository-arguments.js';
import type { StoredTask } from './stored-task.js';

/** The fields a task keeps from its creation on: filed once, when it is stored. */
const fixedFields = [
  'flowNodeInstanceId',
  'processInstanceId',
  'correlationId',
  'tenantId',
  'processModelId',
] as const;

/** The fields a query may give, each matched against the task's field of that name. */
const queriedFields = [...fixedFields, 'workerId', 'topic', 'state'] as const;

type IndexedField = (typeof fixedFields)[number] | 'workerId';
type FinalState = Exclude<StoredTask['state'], 'pending'>;
const finalStates: readonly FinalState[] = ['finished', 'failed', 'cancelled'];

/** The tasks with one value of a field: most instance ids have a single task, kept without a Set. */
type Entry = StoredTask | Set<StoredTask>;

/** A part of a query's candidates: how many tasks, and (on demand) which. */
interface Candidates {
  readonly size: number;
  readonly tasks: () => Iterable<StoredTask>;
}

/** The tasks the indexes are built from: every task, and the pending ones in their topics' queues. */
export interface IndexedTasks {
  /** Every task, in no particular order. */
  all(): Iterable<StoredTask>;
  /** The pending tasks of `topic`, or of every topic. */
  pending(topic?: string): Candidates;
}

/**
 * Secondary indexes of the in-memory store: the tasks per value of each field a query or a cancellation
 * selects by, so that they start from the smallest matching set instead of scanning every task.
 *
 * An index is built by the first query (cancellation, deletion, count) that selects by its field — one
 * pass over the tasks — and kept true from then on; a field nothing selects by costs nothing, so a store
 * that is only created in, claimed from and finished costs no index entry at all. In a built index, a
 * task is filed only under what can find it and only when a value changes: its fixed fields once, its
 * worker when another locks it, and — once it is final — its state and topic together (a pending task is
 * found by state or topic through its topic's queues, so a pending task costs no entry there).
 */
export class TaskIndexes {
  /** The indexes built so far, in the order they were built. */
  private readonly built: { readonly field: IndexedField; readonly index: Map<string, Entry> }[] = [];
  /** Final tasks per state, then per topic, once a query asked for final states or topics. */
  private finals: Map<FinalState, Map<string, Set<StoredTask>>> | undefined;

  constructor(private readonly tasks: IndexedTasks) {}

  /** Files a new task under its fields, in the indexes built. */
  add(task: StoredTask): void {
    for (const { field, index } of this.built) insert(index, task[field], task);
  }

  /** Takes `task` out of every index. */
  remove(task: StoredTask): void {
    for (const { field, index } of this.built) remove(index, task[field], task);
    this.removeFinal(task);
  }

  /** Re-files `task` after its worker changed from `previous`. */
  refileWorker(task: StoredTask, previous: string | undefined): void {
    if (previous === task.workerId) return;
    for (const { field, index } of this.built) {
      if (field !== 'workerId') continue;
      remove(index, previous, task);
      insert(index, task.workerId, task);
    }
  }

  /** Files `task`, which has just become final, under its state and topic. */
  addFinal(task: StoredTask): void {
    if (this.finals === undefined) return;
    fileFinal(this.finals, task);
  }

  /** Takes a final `task` out of the final state and topic indexes (before it is revived or forgotten). */
  removeFinal(task: StoredTask): void {
    const byTopic = this.finals?.get(task.state as FinalState);
    const tasks = byTopic?.get(task.topic);
    if (!tasks?.delete(task)) return;
    if (tasks.size === 0) byTopic?.delete(task.topic);
  }

  /** The tasks whose fixed field `field` is `value`. */
  find(field: (typeof fixedFields)[number], value: string): ReadonlySet<StoredTask> {
    return this.entry(field, value);
  }

  /**
   * The smallest candidate set that `query` restricts to — one field's tasks, or for a list of states or
   * topics the tasks of any of them — or `undefined` if it names no indexed field.
   */
  candidates(query: ValidQuery): Iterable<StoredTask> | undefined {
    const restrictions: Candidates[] = [];
    for (const field of [...fixedFields, 'workerId' as const]) {
      const value = query[field];
      if (value !== undefined) restrictions.push(ofSet(this.entry(field, value)));
    }
    if (query.states !== undefined) {
      restrictions.push(
        union(
          [...new Set(query.states)].flatMap((state) =>
            state === 'pending'
              ? [this.tasks.pending()]
              : [...(this.finalIndex().get(state)?.values() ?? [])].map(ofSet),
          ),
        ),
      );
    }
    if (query.topics !== undefined) {
      const finals = this.finalIndex();
      restrictions.push(
        union(
          [...new Set(query.topics)].flatMap((topic) => [
            this.tasks.pending(topic),
            ...[...finals.values()].map((byTopic) => ofSet(byTopic.get(topic) ?? new Set())),
          ]),
        ),
      );
    }
    if (restrictions.length === 0) return undefined;
    return restrictions.reduce((smallest, next) => (next.size < smallest.size ? next : smallest)).tasks();
  }

  private entry(field: IndexedField, value: string): ReadonlySet<StoredTask> {
    const entry = this.index(field).get(value);
    if (entry === undefined) return new Set();
    return entry instanceof Set ? entry : new Set([entry]);
  }

  /** The index of `field`, built now if no query needed it before. */
  private index(field: IndexedField): Map<string, Entry> {
    const built = this.built.find((index) => index.field === field);
    if (built) return built.index;
    const index = new Map<string, Entry>();
    for (const task of this.tasks.all()) insert(index, task[field], task);
    this.built.push({ field, index });
    return index;
  }

  /** The final tasks per state and topic, built now if no query needed them before. */
  private finalIndex(): Map<FinalState, Map<string, Set<StoredTask>>> {
    if (this.finals) return this.finals;
    const finals = new Map<FinalState, Map<string, Set<StoredTask>>>(
      finalStates.map((state) => [state, new Map()]),
    );
    for (const task of this.tasks.all()) if (task.state !== 'pending') fileFinal(finals, task);
    this.finals = finals;
    return finals;
  }
}

/** Files a final `task` under its state and topic. */
function fileFinal(finals: Map<FinalState, Map<string, Set<StoredTask>>>, task: StoredTask): void {
  const byTopic = finals.get(task.state as FinalState) as Map<string, Set<StoredTask>>;
  const tasks = byTopic.get(task.topic);
  if (tasks) tasks.add(task);
  else byTopic.set(task.topic, new Set([task]));
}

/** Files `task` under `value`; a task without a value (no tenant) is in no entry of that index. */
function insert(index: Map<string, Entry>, value: string | undefined, task: StoredTask): void {
  if (value === undefined) return;
  const entry = index.get(value);
  if (entry === undefined) index.set(value, task);
  else if (entry instanceof Set) entry.add(task);
  else index.set(value, new Set([entry, task]));
}

function remove(index: Map<string, Entry>, value: string | undefined, task: StoredTask): void {
  if (value === undefined) return;
  const entry = index.get(value);
  if (entry === task) index.delete(value);
  else if (entry instanceof Set) {
    entry.delete(task);
    if (entry.size === 0) index.delete(value);
  }
}

function ofSet(tasks: ReadonlySet<StoredTask>): Candidates {
  return { size: tasks.size, tasks: () => tasks };
}

/** Candidates made of disjoint parts. */
function union(parts: readonly Candidates[]): Candidates {
  return {
    size: parts.reduce((sum, part) => sum + part.size, 0),
    tasks: () => parts.flatMap((part) => [...part.tasks()]),
  };
}

/** Whether `task` matches every field `query` gives, at the store's time `now`. */
export function matches(task: StoredTask, query: ValidQuery, now: number): boolean {
  const lockHolds = task.lockExpirationTime !== undefined && task.lockExpirationTime > now;
  return (
    queriedFields.every((field) => {
      if (field === 'state') return query.states === undefined || query.states.includes(task.state);
      if (field === 'topic') return query.topics === undefined || query.topics.includes(task.topic);
      return query[field] === undefined || query[field] === task[field];
    }) &&
    (query.incident === undefined ||
      (task.state === 'failed' && (task.incident === true) === query.incident)) &&
    (query.locked === undefined || (task.state === 'pending' && lockHolds === query.locked))
  );
}
