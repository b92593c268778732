import type { ExternalTaskFailure, JsonValue } from '../../model/index.js';
import type {
  ChangePosition,
  ExternalTaskChange,
  ExternalTaskChangeType,
} from '../external-task-repository.js';
import type { StoredTask, TaskProgress } from './stored-task.js';
import { changeEntry, taskRecord } from './task-record.js';

/** A number column's value for `undefined`. */
const none = NaN;
const orNone = (value: number | undefined): number => (value === undefined ? none : value);
const orUndefined = (value: number): number | undefined => (Number.isNaN(value) ? undefined : value);

/**
 * The changes a change log retains, oldest first, each kept as its type, its task and the task's
 * {@link TaskProgress} at the change, in columns — typed arrays for the numbers, plain arrays for the
 * rest — of a ring that grows by doubling. A change costs no object of its own, so a long retention
 * leaves the garbage collector nothing per change to copy or mark: the record every receiver of a
 * change shares lives only as long as they keep it. A retained change is made again, equal to the one
 * delivered then, when a subscriber that fell behind or resumes reads it.
 */
export class RetainedChanges {
  /** How many changes are retained. */
  size = 0;
  /** Where the oldest sits in the ring. */
  private start = 0;
  private capacity = 0;
  private types: (ExternalTaskChangeType | undefined)[] = [];
  private states: (StoredTask['state'] | undefined)[] = [];
  /** 0: no incident field, 1: `false`, 2: `true`. */
  private incidents = new Uint8Array(0);
  private priorities = new Float64Array(0);
  private retries = new Float64Array(0);
  private attempts = new Float64Array(0);
  private lockExpirationTimes = new Float64Array(0);
  private finishedAts = new Float64Array(0);
  private retryAts = new Float64Array(0);
  private tasks: (StoredTask | undefined)[] = [];
  private workerIds: (string | undefined)[] = [];
  private results: (JsonValue | undefined)[] = [];
  private errors: (ExternalTaskFailure | undefined)[] = [];

  /** Keeps a change of `type` of `task`, as the task is now, as the newest. */
  push(type: ExternalTaskChangeType, task: StoredTask): void {
    if (this.size === this.capacity) this.grow();
    const at = (this.start + this.size) & (this.capacity - 1);
    this.size++;
    this.types[at] = type;
    this.states[at] = task.state;
    this.incidents[at] = task.incident === undefined ? 0 : task.incident ? 2 : 1;
    this.priorities[at] = task.priority;
    this.retries[at] = orNone(task.retries);
    this.attempts[at] = task.attempts;
    this.lockExpirationTimes[at] = orNone(task.lockExpirationTime);
    this.finishedAts[at] = orNone(task.finishedAt);
    this.retryAts[at] = orNone(task.retryAt);
    this.tasks[at] = task;
    this.workerIds[at] = task.workerId;
    this.results[at] = task.result;
    this.errors[at] = task.error;
  }

  /** Lets the `count` oldest changes go. */
  dropOldest(count: number): void {
    for (let dropped = 0; dropped < count; dropped++) {
      this.release(this.start);
      this.start = (this.start + 1) & (this.capacity - 1);
    }
    this.size -= count;
  }

  /** Lets the `count` newest changes go. */
  dropNewest(count: number): void {
    for (let dropped = 0; dropped < count; dropped++) {
      this.size--;
      this.release((this.start + this.size) & (this.capacity - 1));
    }
  }

  /** The change `index` places after the oldest, made again, at its `position`. */
  change(index: number, position: ChangePosition): ExternalTaskChange {
    const at = (this.start + index) & (this.capacity - 1);
    const incident = this.incidents[at] as number;
    const progress: TaskProgress = {
      state: this.states[at] as StoredTask['state'],
      priority: this.priorities[at] as number,
      retries: orUndefined(this.retries[at] as number),
      attempts: this.attempts[at] as number,
      workerId: this.workerIds[at],
      lockExpirationTime: orUndefined(this.lockExpirationTimes[at] as number),
      finishedAt: orUndefined(this.finishedAts[at] as number),
      result: this.results[at],
      error: this.errors[at],
      retryAt: orUndefined(this.retryAts[at] as number),
      incident: incident === 0 ? undefined : incident === 2,
    };
    const task = this.tasks[at] as StoredTask;
    const type = this.types[at] as ExternalTaskChangeType;
    return changeEntry(type, position, taskRecord(task, progress), progress);
  }

  /** Drops the references of a slot let go, so that what it named can be collected. */
  private release(at: number): void {
    this.types[at] = undefined;
    this.states[at] = undefined;
    this.tasks[at] = undefined;
    this.workerIds[at] = undefined;
    this.results[at] = undefined;
    this.errors[at] = undefined;
  }

  /** Doubles the ring, the oldest change moved to the front. */
  private grow(): void {
    const capacity = Math.max(64, this.capacity * 2);
    const order = (at: number): number => (this.start + at) & (this.capacity - 1);
    const bytes = <Column extends Uint8Array | Float64Array>(column: Column, empty: Column): Column => {
      for (let index = 0; index < this.size; index++) empty[index] = column[order(index)] as number;
      return empty;
    };
    const references = <T>(column: T[]): T[] => {
      const moved = new Array<T>(capacity);
      for (let index = 0; index < this.size; index++) moved[index] = column[order(index)] as T;
      return moved;
    };
    this.types = references(this.types);
    this.states = references(this.states);
    this.incidents = bytes(this.incidents, new Uint8Array(capacity));
    this.priorities = bytes(this.priorities, new Float64Array(capacity));
    this.retries = bytes(this.retries, new Float64Array(capacity));
    this.attempts = bytes(this.attempts, new Float64Array(capacity));
    this.lockExpirationTimes = bytes(this.lockExpirationTimes, new Float64Array(capacity));
    this.finishedAts = bytes(this.finishedAts, new Float64Array(capacity));
    this.retryAts = bytes(this.retryAts, new Float64Array(capacity));
    this.tasks = references(this.tasks);
    this.workerIds = references(this.workerIds);
    this.results = references(this.results);
    this.errors = references(this.errors);
    this.capacity = capacity;
    this.start = 0;
  }
}
