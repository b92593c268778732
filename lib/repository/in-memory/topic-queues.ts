import { IndexedHeap } from './indexed-heap.js';
import type { StoredTask } from './stored-task.js';

/** Hand-out order: higher priority first, then creation order. */
export function compareHandOutOrder(a: StoredTask, b: StoredTask): number {
  return b.priority - a.priority || a.sequence - b.sequence;
}

function byTime(time: (task: StoredTask) => number | undefined): (a: StoredTask, b: StoredTask) => number {
  return (a, b) => (time(a) as number) - (time(b) as number) || a.sequence - b.sequence;
}

/** How many of a topic's tasks ended in each final way. */
export interface FinalCounts {
  finished: number;
  failed: number;
  incidents: number;
  cancelled: number;
}

/**
 * The pending tasks of one topic, in three indexed heaps: `ready` (available, in hand-out order),
 * `locked` (by lock expiration) and `delayed` (waiting for a retry, by due time). A task moves from
 * `locked` or `delayed` back to `ready` lazily, when the store looks at the topic ({@link promoteDue}),
 * so no timer is needed and claiming k tasks costs O((k + due) log n). Final tasks are only counted.
 */
export class TopicQueues {
  readonly finals: FinalCounts = { finished: 0, failed: 0, incidents: 0, cancelled: 0 };
  private readonly ready = new IndexedHeap<StoredTask>(compareHandOutOrder);
  private readonly locked = new IndexedHeap<StoredTask>(byTime((task) => task.lockExpirationTime));
  private readonly delayed = new IndexedHeap<StoredTask>(byTime((task) => task.retryAt));

  /**
   * Moves every task whose lock expired or whose retry came due by `now` to `ready`, and reports each
   * (`lockExpired` or `retryDue`), so that the store can announce it.
   */
  promoteDue(now: number, onPromoted: (task: StoredTask, why: 'lockExpired' | 'retryDue') => void): void {
    for (
      let next = this.locked.peek();
      next && (next.lockExpirationTime as number) <= now;
      next = this.locked.peek()
    ) {
      this.makeReady(next);
      onPromoted(next, 'lockExpired');
    }
    for (
      let next = this.delayed.peek();
      next && (next.retryAt as number) <= now;
      next = this.delayed.peek()
    ) {
      this.makeReady(next);
      onPromoted(next, 'retryDue');
    }
  }

  /** The next task to hand out (call {@link promoteDue} first). */
  peekReady(): StoredTask | undefined {
    return this.ready.peek();
  }

  /** When the earliest lock expires or retry becomes due. */
  nextTransition(): number | undefined {
    const lockExpiration = this.locked.peek()?.lockExpirationTime;
    const retryAt = this.delayed.peek()?.retryAt;
    if (lockExpiration === undefined) return retryAt;
    return retryAt === undefined ? lockExpiration : Math.min(lockExpiration, retryAt);
  }

  /** Pending tasks per queue (call {@link promoteDue} first). */
  pendingCounts(): { available: number; locked: number; retrying: number } {
    return { available: this.ready.size, locked: this.locked.size, retrying: this.delayed.size };
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
