/** An exponential delay: `initialDelay × factor^n`, capped at `maxDelay`, less a random part of up to `jitter`. */
export interface DelaySchedule {
  readonly initialDelay: number;
  readonly maxDelay: number;
  readonly factor: number;
  readonly jitter: number;
}

/**
 * The delay before attempt `n + 1` after `n` failures (counting from 0), in whole ms:
 * `min(maxDelay, initialDelay × factor^n)`, less a random part of up to `jitter` of it.
 *
 * @param random - a number in [0, 1)
 */
export function delayAfter(schedule: DelaySchedule, failures: number, random: number): number {
  const { initialDelay, maxDelay, factor, jitter } = schedule;
  const base = Math.min(maxDelay, initialDelay * factor ** failures);
  return Math.round(base * (1 - jitter * random));
}

/** Exponential backoff with jitter for failed fetches (see {@link delayAfter}); a success resets it. */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly schedule: DelaySchedule,
    /** A number in [0, 1); read at each call, so a stubbed `Math.random` takes effect. */
    private readonly random: () => number = () => Math.random(),
  ) {}

  /** The delay before the next attempt, in whole ms; each call counts one more failure. */
  next(): number {
    const delay = delayAfter(this.schedule, this.failures, this.random());
    const { initialDelay, maxDelay, factor } = this.schedule;
    // Only while the delay still grows: past the cap, counting on would overflow toward Infinity.
    if (initialDelay > 0 && initialDelay * factor ** this.failures < maxDelay && factor > 1) this.failures++;
    return delay;
  }

  /** After a success: the next failure waits `initialDelay` again. */
  reset(): void {
    this.failures = 0;
  }
}
