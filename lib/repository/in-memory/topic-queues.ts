import { IndexedHeap } from './indexed-heap.js';
import type { StoredTask } from './stored-task.js';

/** Hand-out order: higher priority first, then creation order. */
export function compareHandOutOrder(a: StoredTask, b: StoredTask): number {
  return b.priority - a.priority || a.sequence - b.sequence;
}

function compareLockExpiration(a: StoredTask, b: StoredTask): number {
  return (a.lockExpirationTime as number) - (b.lockExpirationTime as number) || a.sequence - b.sequence;
}

/**
 * The pending tasks of one topic, in two heaps: `ready` (available, in hand-out order) and `waiting`
 * (locked, by lock expiration). A task whose lock has expired moves back to `ready` lazily, when a claim
 * looks at the topic, so no timer is needed and claiming k tasks costs O((k + expired) log n).
 */
export class TopicQueues {
  private readonly ready = new IndexedHeap<StoredTask>(compareHandOutOrder);
  private readonly waiting = new IndexedHeap<StoredTask>(compareLockExpiration);

  get isEmpty(): boolean {
    return this.ready.size === 0 && this.waiting.size === 0;
  }

  /** The next task to hand out, after moving every task whose lock expired by `now` to `ready`. */
  peekAvailable(now: number): StoredTask | undefined {
    for (let next = this.waiting.peek(); next !== undefined && (next.lockExpirationTime as number) <= now;) {
      this.makeReady(next);
      next = this.waiting.peek();
    }
    return this.ready.peek();
  }

  /** When the earliest lock in this topic expires. */
  nextLockExpiration(): number | undefined {
    return this.waiting.peek()?.lockExpirationTime;
  }

  makeReady(task: StoredTask): void {
    this.detach(task);
    task.queue = 'ready';
    this.ready.push(task);
  }

  /** Files `task` under its (new) lock expiration time. */
  makeWaiting(task: StoredTask): void {
    this.detach(task);
    task.queue = 'waiting';
    this.waiting.push(task);
  }

  detach(task: StoredTask): void {
    if (task.queue === 'ready') this.ready.remove(task);
    else if (task.queue === 'waiting') this.waiting.remove(task);
    task.queue = undefined;
  }
}
