/** An opaque handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/**
 * Where the library reads the time and schedules timers. Inject one to control time in tests; the
 * default, {@link systemClock}, looks up `Date.now` and the global timer functions at each call, so
 * sinon's fake timers take effect even when installed after the clock was handed over.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The methods a {@link Clock} must have, which every owner of a clock option checks. */
export const clockMethods = ['now', 'setTimeout', 'clearTimeout'] as const;

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
