import type { Clock, TimerHandle } from '../clock/index.js';
import type { ExternalTask } from '../model/index.js';
import type { FetchedTask } from './fetched-task.js';

/**
 * The worker's local queue: tasks fetched and locked for it that wait for a free slot, oldest first, at
 * most `capacity` of them. None waits longer than `maxWait` ms, counted from when it arrived (when the
 * fetch that brought it answered, not when that fetch was sent: a long poll may have waited long before
 * claiming it). One timer, set for the oldest task, hands every task that has waited that long to
 * `onExpired`, which gives it back to the store, and the buffer asks for no more tasks until it is drawn
 * on again (see {@link room}). {@link take} never answers such a task either, should a slot free before
 * the timer has run (a busy event loop runs it late). {@link drain} empties it on stop.
 */
export class TaskBuffer {
  private readonly queue: FetchedTask[] = [];
  private timer: TimerHandle = undefined;
  private refillable = true;

  constructor(
    readonly capacity: number,
    private readonly maxWait: number,
    private readonly clock: Clock,
    private readonly onExpired: (tasks: ExternalTask[]) => void,
  ) {}

  /** Tasks waiting. */
  get size(): number {
    return this.queue.length;
  }

  /** Whether a task may be queued now. */
  get full(): boolean {
    return this.queue.length >= this.capacity;
  }

  /**
   * The places worth fetching for: none after tasks expired, until a slot has taken a task from the
   * buffer again (or found it empty). A buffer whose tasks expire is larger than the slots can use now,
   * and refilling it would only fetch tasks to hand back again.
   */
  get room(): number {
    return this.refillable ? Math.max(0, this.capacity - this.queue.length) : 0;
  }

  /** Queues a fetched task behind every task that arrived no later. */
  push(fetched: FetchedTask): void {
    const { lockedSince } = fetched;
    // The one timer is set for the first task, so the queue stays in order of lockedSince: tasks arrive in
    // time order and are appended, unless the clock was set back meanwhile (a wall clock corrected).
    let index = this.queue.length;
    while (index > 0 && this.queue[index - 1]!.lockedSince > lockedSince) index--;
    this.queue.splice(index, 0, fetched);
    if (index === 0) this.schedule();
  }

  /**
   * The oldest task that has not waited `maxWait`, taken out of the queue; `undefined` when none waits.
   * Those older than it go to `onExpired` first.
   */
  take(): FetchedTask | undefined {
    this.handBackExpired();
    this.refillable = true;
    const next = this.queue.shift();
    // The timer stays set for the task taken: when it fires it finds nothing due and moves on to the
    // oldest task then, which spares a timer per task taken.
    if (this.queue.length === 0) this.stopTimer();
    return next;
  }

  /** Takes the task with `taskId` out of the queue, if it waits there; answers whether it did. */
  remove(taskId: string): boolean {
    const index = this.queue.findIndex(({ task }) => task.id === taskId);
    if (index === -1) return false;
    this.queue.splice(index, 1);
    if (this.queue.length === 0) this.stopTimer();
    return true;
  }

  /** Every task waiting, taken out of the queue; no timer is left, and the buffer may be refilled. */
  drain(): ExternalTask[] {
    this.stopTimer();
    this.refillable = true;
    return this.queue.splice(0).map(({ task }) => task);
  }

  private stopTimer(): void {
    if (this.timer === undefined) return;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Sets the timer for the oldest task, if any waits, in place of the one set before. */
  private schedule(): void {
    this.stopTimer();
    const oldest = this.queue[0];
    if (!oldest) return;
    const dueIn = oldest.lockedSince + this.maxWait - this.clock.now();
    this.timer = this.clock.setTimeout(() => this.expire(), Math.max(0, dueIn));
  }

  private expire(): void {
    this.timer = undefined;
    this.handBackExpired();
    this.schedule();
  }

  /** Gives every task that has waited `maxWait` to `onExpired`; the buffer is then not refilled. */
  private handBackExpired(): void {
    const now = this.clock.now();
    const expired: ExternalTask[] = [];
    while (this.queue[0] && this.queue[0].lockedSince + this.maxWait <= now)
      expired.push(this.queue.shift()!.task);
    if (expired.length === 0) return;
    this.refillable = false;
    this.onExpired(expired);
  }
}
