import type { Clock, TimerHandle } from './clock.js';

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
   * Sets the time to `time`, forwards or backwards (a clock stepping back, as wall clocks do), running
   * the timers due by then, in order.
   */
  set(time: number): void {
    for (let next = this.nextDue(time); next; next = this.nextDue(time)) {
      this.timers.delete(next.sequence);
      if (next.at > this.time) this.time = next.at;
      next.callback();
    }
    this.time = time;
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
