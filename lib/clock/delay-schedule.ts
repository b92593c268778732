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
  // factor^n overflows to Infinity after enough failures: the cap takes it, unless the delay is 0 (0 × ∞ is NaN).
  const base = initialDelay === 0 ? 0 : Math.min(maxDelay, initialDelay * factor ** failures);
  return Math.round(base * (1 - jitter * random));
}
