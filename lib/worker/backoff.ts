import { delayAfter, type DelaySchedule } from '../clock/index.js';

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
    return delayAfter(this.schedule, this.failures++, this.random());
  }

  /** After a success: the next failure waits `initialDelay` again. */
  reset(): void {
    this.failures = 0;
  }
}
