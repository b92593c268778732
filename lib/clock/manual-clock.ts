import type { Clock, TimerHandle } from './clock.js';

/** The process's own `setImmediate`, taken before a test may fake it: a turn of the event loop. */
const realSetImmediate = globalThis.setImmediate;

/** Lets the promise jobs queued so far (and what they queue in turn) run: one turn of the event loop. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => realSetImmediate(resolve));
}

interface ManualTimer {
  readonly at: number;
  readonly sequence: number;
  readonly callback: () => void;
}

/**
 * A clock that moves only when told to: for test beds that give a store (or a facade) its own time,
 * independent of the process's `Date` and timers. Timers due by the new time run in time order when it
 * moves.
 *
 * @example
 * ```ts
 * const clock = new ManualClock(Date.UTC(2030, 0, 1));
 * const repository = new InMemoryExternalTaskRepository({ clock });
 * clock.advance(60_000); // locks taken a minute ago with a 60 s duration have now expired
 * ```
 */
export class ManualClock implements Clock {
  private time: number;
  private readonly timers = new Map<number, ManualTimer>();
  private sequence = 0;

  /** @param start - the time it shows first, in ms since the epoch. */
  constructor(start: number) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const sequence = this.sequence++;
    this.timers.set(sequence, { at: this.time + Math.max(0, delayMs), sequence, callback });
    return sequence;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  /** Moves time forward by `ms` (0 or more), running the timers that come due, in order. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance: ms must be 0 or more, got ${ms}.`);
    this.set(this.time + ms);
  }

  /**
   * Moves time forward by `ms` (0 or more) as {@link advance} does, but lets promise jobs run before and
   * after each timer it runs (a turn of the event loop each), as sinon's `tickAsync` does: what a timer
   * starts (a long poll waking, a store's claim) has answered before the next timer runs and when this
   * resolves. Tests await it instead of writing `setImmediate` loops.
   */
  async advanceAsync(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advanceAsync: ms must be 0 or more, got ${ms}.`);
    const time = this.time + ms;
    await nextTurn();
    while (this.runNextDue(time)) await nextTurn();
    this.time = time;
  }

  /**
   * Sets the time to `time`, forwards or backwards (a clock stepping back, as wall clocks do), running
   * the timers due by then, in order.
   */
  set(time: number): void {
    let ran = true;
    while (ran) ran = this.runNextDue(time);
    this.time = time;
  }

  /** Runs the first timer due by `time` (moving the time to its due time); answers whether there was one. */
  private runNextDue(time: number): boolean {
    const next = this.nextDue(time);
    if (!next) return false;
    this.timers.delete(next.sequence);
    if (next.at > this.time) this.time = next.at;
    next.callback();
    return true;
  }

  private nextDue(time: number): ManualTimer | undefined {
    let next: ManualTimer | undefined;
    for (const timer of this.timers.values()) {
      if (
        timer.at <= time &&
        (!next || timer.at < next.at || (timer.at === next.at && timer.sequence < next.sequence))
      )
        next = timer;
    }
    return next;
  }
}
