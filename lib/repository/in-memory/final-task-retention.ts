import type { StoredTask } from './stored-task.js';

/**
 * Remembers when tasks reached a final state, in that order, so that the store can forget each one a
 * fixed time later at O(1) amortized cost (no timer, no scan): time only moves forward, so the oldest
 * entries are always at the front. An entry whose task came back to `pending` (an incident resolved with
 * `setRetries`) or ended again later is skipped.
 */
export class FinalTaskRetention {
  /** The tasks that became final, in that order, and beside each the time it did (no object per entry). */
  private tasks: StoredTask[] = [];
  private times: number[] = [];
  private head = 0;

  /**
   * Whether a task is forgotten as it ends (a retention of 0), but for an incident, which waits for an
   * operator (`setRetries`, or `deleteFinalTasks`) instead.
   */
  readonly forgetsAtEnd: boolean;

  /** @param retentionMs - how long a final task is kept after `finishedAt`; `Infinity` keeps it forever. */
  constructor(private readonly retentionMs: number) {
    this.forgetsAtEnd = retentionMs === 0;
  }

  /** Notes that `task` has just become final (and is kept: see {@link forgetsAtEnd}). */
  track(task: StoredTask): void {
    if (this.retentionMs !== Infinity && !this.forgetsAtEnd && task.finishedAt !== undefined) {
      this.tasks.push(task);
      this.times.push(task.finishedAt);
    }
  }

  /** Hands `forget` each task whose retention has run out by `now`, the oldest first. */
  forgetExpired(now: number, forget: (task: StoredTask) => void): void {
    while (this.head < this.tasks.length) {
      const task = this.tasks[this.head] as StoredTask;
      const finishedAt = this.times[this.head] as number;
      const current = task.state !== 'pending' && task.finishedAt === finishedAt;
      if (current && finishedAt + this.retentionMs > now) break;
      this.head++;
      if (current) forget(task);
    }
    if (this.head > 1024 && this.head * 2 > this.tasks.length) {
      this.tasks = this.tasks.slice(this.head);
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
  }
}
