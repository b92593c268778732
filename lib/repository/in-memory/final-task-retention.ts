import type { StoredTask } from './stored-task.js';

/**
 * Remembers when tasks reached a final state, in that order, so that the store can forget each one a
 * fixed time later at O(1) amortized cost (no timer, no scan): time only moves forward, so the oldest
 * entries are always at the front. An entry whose task came back to `pending` (an incident resolved with
 * `setRetries`) or ended again later is skipped.
 */
export class FinalTaskRetention {
  private entries: { task: StoredTask; finishedAt: number }[] = [];
  private head = 0;

  /** @param retentionMs - how long a final task is kept after `finishedAt`; `Infinity` keeps it forever. */
  constructor(private readonly retentionMs: number) {}

  /** Notes that `task` has just become final. */
  track(task: StoredTask): void {
    if (this.retentionMs !== Infinity && task.finishedAt !== undefined) {
      this.entries.push({ task, finishedAt: task.finishedAt });
    }
  }

  /** Takes out the tasks whose retention has run out by `now`. */
  takeExpired(now: number): StoredTask[] {
    const expired: StoredTask[] = [];
    while (this.head < this.entries.length) {
      const { task, finishedAt } = this.entries[this.head] as { task: StoredTask; finishedAt: number };
      const current = task.state !== 'pending' && task.finishedAt === finishedAt;
      if (current && finishedAt + this.retentionMs > now) break;
      if (current) expired.push(task);
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    return expired;
  }
}
