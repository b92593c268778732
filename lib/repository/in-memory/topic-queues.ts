import type { ExternalTaskFailure } from '../../model/index.js';
import type { TaskScope } from '../external-task-repository.js';
import { inScope } from '../task-scope.js';
import { IndexedHeap } from './indexed-heap.js';
import type { StoredTask } from './stored-task.js';

/** Hand-out order: higher priority first, then creation order. */
export function compareHandOutOrder(a: StoredTask, b: StoredTask): number {
  return b.priority - a.priority || a.sequence - b.sequence;
}

/** A task's key in the hand-out order (the tie is its creation order): higher priority first. */
const handOutKey = (task: StoredTask): number => -task.priority;
const creationOrder = (task: StoredTask): number => task.sequence;

/** How many of a topic's tasks ended in each final way. */
export interface FinalCounts {
  finished: number;
  /** `bpmnErrors + serviceErrors`. */
  failed: number;
  bpmnErrors: number;
  serviceErrors: number;
  incidents: number;
  cancelled: number;
}

/**
 * Adds `sign` (+1: it became final, -1: it is forgotten or revived) to each final counter a final task
 * counts in: its state, and for a failure its kind and whether it is an incident.
 */
export function countFinal(
  counts: Record<keyof FinalCounts, number>,
  task: {
    state: StoredTask['state'];
    error: ExternalTaskFailure | undefined;
    incident: boolean | undefined;
  },
  sign: 1 | -1,
): void {
  if (task.state === 'finished' || task.state === 'cancelled') counts[task.state] += sign;
  if (task.state !== 'failed') return;
  counts.failed += sign;
  if (task.error?.type === 'bpmn') counts.bpmnErrors += sign;
  else counts.serviceErrors += sign;
  if (task.incident === true) counts.incidents += sign;
}

/**
 * The pending tasks of one topic, in three indexed heaps: `ready` (available, in hand-out order),
 * `locked` (by lock expiration) and `delayed` (waiting for a retry, by due time). Only a claim moves a
 * task whose lock expired or whose retry came due from `locked` or `delayed` to `ready`
 * ({@link promoteDue}); reads count and look without moving anything, so claiming k tasks costs
 * O((k + due) log n) and no timer is needed. Final tasks are only counted.
 */
export class TopicQueues {
  readonly finals: FinalCounts = {
    finished: 0,
    failed: 0,
    bpmnErrors: 0,
    serviceErrors: 0,
    incidents: 0,
    cancelled: 0,
  };
  private readonly ready = new IndexedHeap<StoredTask>(handOutKey, creationOrder);
  private readonly locked = new IndexedHeap<StoredTask>(lockedUntil, creationOrder);
  private readonly delayed = new IndexedHeap<StoredTask>(retryAt, creationOrder);
  /**
   * The latest time promoted at. Every task in `ready` was available by then; only a clock that stepped
   * back before it can make one of them wait again (see {@link steppedBack}).
   */
  private promotedAt = -Infinity;

  /** Moves every task whose lock expired or whose retry came due by `now` to `ready`. */
  promoteDue(now: number): void {
    this.promotedAt = Math.max(this.promotedAt, now);
    for (let next = this.locked.peek(); next && lockedUntil(next) <= now; next = this.locked.peek()) {
      this.makeReady(next);
    }
    for (let next = this.delayed.peek(); next && retryAt(next) <= now; next = this.delayed.peek()) {
      this.makeReady(next);
    }
  }

  /** The next task to hand out (call {@link promoteDue} first). */
  peekReady(): StoredTask | undefined {
    return this.ready.peek();
  }

  /**
   * How long after `now` a task in `scope` is available: 0 if one is now (ready, lock expired or retry
   * due), else until the earliest lock in scope expires or retry in scope comes due.
   */
  msUntilAvailable(now: number, scope: TaskScope | undefined): number | undefined {
    const matches = (task: StoredTask): boolean => inScope(task, scope);
    const lock = this.locked.minMatching(matches);
    const retry = this.delayed.minMatching(matches);
    const times = [lock && lockedUntil(lock), retry && retryAt(retry)].filter((t) => t !== undefined);
    if (this.steppedBack(now)) {
      for (const task of this.ready.items()) if (matches(task)) times.push(availableFrom(task));
    } else if (this.ready.minMatching(matches)) {
      return 0;
    }
    return times.length === 0 ? undefined : Math.max(0, Math.min(...times) - now);
  }

  /** How many pending tasks the topic has. */
  get pendingCount(): number {
    return this.ready.size + this.locked.size + this.delayed.size;
  }

  /** The topic's pending tasks, in no particular order. */
  pendingTasks(): StoredTask[] {
    return [...this.ready.items(), ...this.locked.items(), ...this.delayed.items()];
  }

  /** Whether the topic has a task, pending or final. */
  hasTasks(): boolean {
    const { finished, failed, cancelled } = this.finals;
    return this.pendingCount + finished + failed + cancelled > 0;
  }

  /** Pending tasks per state at `now`, without moving any. */
  pendingCounts(now: number): { available: number; locked: number; retrying: number } {
    let expired = 0;
    let due = 0;
    this.locked.scanDue(
      (task) => lockedUntil(task) <= now,
      () => expired++,
    );
    this.delayed.scanDue(
      (task) => retryAt(task) <= now,
      () => due++,
    );
    const counts = {
      available: this.ready.size + expired + due,
      locked: this.locked.size - expired,
      retrying: this.delayed.size - due,
    };
    if (this.steppedBack(now)) {
      for (const task of this.ready.items()) {
        const state = pendingState(task, now);
        if (state !== 'available') {
          counts.available--;
          counts[state]++;
        }
      }
    }
    return counts;
  }

  /**
   * Whether the clock is now before a time this topic promoted at: then a task in `ready` may hold a lock
   * or wait for a retry again, and is judged by its times (a linear pass, only after such a step).
   */
  private steppedBack(now: number): boolean {
    return now < this.promotedAt;
  }

  /** Adds `task`'s final counters with `sign` +1 (it became final) or -1 (it is forgotten or revived). */
  countFinal(task: StoredTask, sign: 1 | -1): void {
    countFinal(this.finals, task, sign);
  }

  makeReady(task: StoredTask): void {
    this.file(task, 'ready');
  }

  /** Files `task` under its (new) lock expiration time. */
  makeLocked(task: StoredTask): void {
    this.file(task, 'locked');
  }

  /** Files `task` under its retry time. */
  makeDelayed(task: StoredTask): void {
    this.file(task, 'delayed');
  }

  detach(task: StoredTask): void {
    if (task.queue) this.heap(task.queue).remove(task);
    task.queue = undefined;
  }

  private file(task: StoredTask, queue: NonNullable<StoredTask['queue']>): void {
    this.detach(task);
    task.queue = queue;
    this.heap(queue).push(task);
  }

  private heap(queue: NonNullable<StoredTask['queue']>): IndexedHeap<StoredTask> {
    return queue === 'ready' ? this.ready : queue === 'locked' ? this.locked : this.delayed;
  }
}

function lockedUntil(task: StoredTask): number {
  return task.lockExpirationTime as number;
}

function retryAt(task: StoredTask): number {
  return task.retryAt as number;
}

/** When a pending task is (or was) available: its lock's expiry, its retry's due time, or always. */
function availableFrom(task: StoredTask): number {
  return task.lockExpirationTime ?? task.retryAt ?? -Infinity;
}

/** Which pending state a pending task is in at `now`, judged by its times alone. */
export function pendingState(task: StoredTask, now: number): 'available' | 'locked' | 'retrying' {
  if (task.retryAt !== undefined && task.retryAt > now) return 'retrying';
  if (task.lockExpirationTime !== undefined && task.lockExpirationTime > now) return 'locked';
  return 'available';
}
