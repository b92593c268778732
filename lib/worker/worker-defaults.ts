/**
 * The defaults of {@link ExternalTaskWorkerOptions} that do not depend on other options: the one place
 * they are written. The options' documentation refers to these fields, and the option table of the
 * worker guide is checked against them. The defaults that follow from other options are rules, applied
 * where the options are resolved: `maxTasks` is `concurrency` (at most 1000), `extendLockInterval` is
 * half of `lockDuration`, `maxBufferWait` is half of what is left of `lockDuration` after
 * `extendLockInterval`, and a `maxDelay` is at least its `initialDelay` or `delay`.
 */
export const workerDefaults = Object.freeze({
  /** Handlers that may run at once. */
  concurrency: 5,
  /** Fetched tasks the worker may hold beyond its free slots, waiting for one: none. */
  bufferSize: 0,
  /** The share of its capacity (`concurrency` + `bufferSize`) that must be free before the worker fetches again. */
  refillThreshold: 0.25,
  /** How long a fetched task stays locked, and what each extension renews it to, in ms. */
  lockDuration: 60_000,
  /** How long one fetch waits for a task when none is available, in ms. */
  longPollingTimeout: 30_000,
  /** The least time from the start of one fetch to the start of the next when a fetch found none, in ms. */
  pollInterval: 1000,
  /** How long `stop()` waits for running handlers before aborting them, in ms. */
  stopGracePeriod: 10_000,
  /** The delays after failed fetches. */
  backoff: Object.freeze({ initialDelay: 1000, maxDelay: 30_000, factor: 2, jitter: 0.2 }),
  /** Retries after handler failures: none, so a failure fails the task as the specification says. */
  retry: Object.freeze({
    retries: 0,
    strategy: 'exponential',
    delay: 1000,
    factor: 2,
    maxDelay: 300_000,
    jitter: 0.2,
  }),
});
