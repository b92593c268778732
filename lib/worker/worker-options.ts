import { clockMethods, systemClock, type Clock } from '../clock/index.js';
import { consoleLogger, loggerMethods, type Logger } from '../logging/index.js';
import type { ExternalTask, Identity, JsonValue } from '../model/index.js';
import { checkInteger, checkNumber, checkObject, checkString, limits } from '../validation/index.js';
import type { DelaySchedule } from '../clock/index.js';
import type { ResolvedRetryPolicy } from './retry-policy.js';
import type { ExternalTaskHandler, TaskContext } from './task-handler.js';
import { defaultWorkerId } from '../model/index.js';
import { workerDefaults } from './worker-defaults.js';
import {
  checkGroup,
  checkHandler,
  checkIdentity,
  checkImplements,
  checkTopics,
  invalidOption,
} from './worker-option-checks.js';

// The defaults are written once, in `workerDefaults`; the `@default` tags below name its fields.

/** The waits after failed fetches: `initialDelay`, then × `factor` per failure, up to `maxDelay`. */
export interface BackoffOptions {
  /** The delay after the first failed fetch, in ms. @default workerDefaults.backoff.initialDelay */
  readonly initialDelay?: number | undefined;
  /** The longest delay, in ms (at least `initialDelay`). @default workerDefaults.backoff.maxDelay */
  readonly maxDelay?: number | undefined;
  /** Each further failure multiplies the delay by this (≥ 1). @default workerDefaults.backoff.factor */
  readonly factor?: number | undefined;
  /**
   * How much randomness to take off each delay, from 0 to 1: a delay `d` becomes a random value in
   * `[d × (1 − jitter), d]`, so many workers that failed together do not retry together.
   * @default workerDefaults.backoff.jitter
   */
  readonly jitter?: number | undefined;
}

/**
 * How the worker retries a task whose handler threw anything but a {@link BpmnError}. Each failure is
 * reported with the retries left (the task's own budget, `task.retries`, if it has one; else `retries`
 * minus the attempts spent) and the delay before the next try; when none are left the task fails as an
 * incident. With the defaults, a failure is reported without retries and fails the task, as the
 * specification says.
 */
export interface RetryPolicyOptions {
  /** Retries for a task that carries no budget of its own (0 to 1,000,000). @default workerDefaults.retry.retries */
  readonly retries?: number | undefined;
  /**
   * `fixed`: every retry waits `delay`; `exponential`: `delay × factor^n`, up to `maxDelay`.
   * @default workerDefaults.retry.strategy
   */
  readonly strategy?: 'fixed' | 'exponential' | undefined;
  /** The delay before the first retry, in ms. @default workerDefaults.retry.delay */
  readonly delay?: number | undefined;
  /** For `exponential`: the growth per attempt (≥ 1). @default workerDefaults.retry.factor */
  readonly factor?: number | undefined;
  /** The longest delay, in ms (at least `delay`). @default workerDefaults.retry.maxDelay */
  readonly maxDelay?: number | undefined;
  /** How much randomness to take off each delay, 0 to 1 (as for `backoff`). @default workerDefaults.retry.jitter */
  readonly jitter?: number | undefined;
}

/**
 * Options of {@link ExternalTaskWorker}.
 * @typeParam Payload - The payload shape of the topic's tasks, as the handler sees it. @default JsonValue
 * @typeParam Result - What the handler returns. @default unknown (anything)
 * @typeParam Task - The record the handler gets (see {@link ExternalTaskHandler}). @default ExternalTask<Payload>
 */
export interface ExternalTaskWorkerOptions<
  Payload = JsonValue,
  Result = unknown,
  Task = ExternalTask<Payload>,
> {
  /**
   * The topic to fetch tasks of, or several topics (fetched together, in one call); on a typed api, of
   * its topic map. Required.
   */
  readonly topic: string | readonly string[];
  // Written out, not as ExternalTaskHandler<Payload, Result, Task>: inferring from that alias's arguments
  // would read Payload, which only Task's default uses, as unknown (options spread from another options
  // object); written out, Payload is inferred from the handler's parameter, as it was.
  /** The code that works on one task: an {@link ExternalTaskHandler}`<Payload, Result, Task>`. Required. */
  readonly handler: (task: Task, context: TaskContext) => Result | PromiseLike<Result>;
  /** The identity every call to the API is made with. @default undefined (the API's policy decides) */
  readonly identity?: Identity | undefined;
  /**
   * The id the worker locks tasks under. Two workers must never share one.
   * @default `${hostname}-${pid}-${randomUUID()}`, unique per worker
   */
  readonly workerId?: string | undefined;
  /** Handlers that may run at once. @default workerDefaults.concurrency */
  readonly concurrency?: number | undefined;
  /**
   * The most tasks one fetch asks for (1 to 1000); a fetch never asks for more than the room the worker
   * has (free slots and free places in its buffer). When the room is larger, several fetches run at once.
   * @default concurrency (capped at 1000)
   */
  readonly maxTasks?: number | undefined;
  /**
   * How many fetched tasks the worker may hold, locked, beyond its free slots: a local queue from which a
   * freed slot takes its next task at once instead of after a fetch (0 to 10,000). The trade-off: a task
   * held in the buffer cannot go to another process, even one with a free slot. None waits there longer
   * than `maxBufferWait`, and `stop()` hands every one back with `unlock`.
   * @default workerDefaults.bufferSize
   */
  readonly bufferSize?: number | undefined;
  /**
   * The longest a task waits in the buffer, in ms, counted from when the fetch that brought it answered
   * (a long poll claims its tasks as they come, so not from when it was sent): then it is handed back with
   * `unlock` for any worker to fetch, never started. Less than `lockDuration` − `extendLockInterval`. A
   * buffered task's lock is first extended `extendLockInterval` after it arrived, as a task started at
   * once is, so waiting in the buffer does not bring its lock closer to expiry.
   * @default (lockDuration − extendLockInterval) / 2 (rounded down): a quarter of the lock by default
   */
  readonly maxBufferWait?: number | undefined;
  /**
   * When to fetch again: once this share (0 to 1) of the worker's capacity (`concurrency` + `bufferSize`)
   * is free and not yet asked for, at least one task. Larger means fewer, larger fetches; smaller keeps
   * the slots fuller.
   * @default workerDefaults.refillThreshold
   */
  readonly refillThreshold?: number | undefined;
  /**
   * How long a fetched task stays locked, and what each extension renews it to, in ms.
   * @default workerDefaults.lockDuration
   */
  readonly lockDuration?: number | undefined;
  /**
   * How often the lock of a running task is extended, in ms; less than `lockDuration`.
   * @default lockDuration / 2 (rounded down)
   */
  readonly extendLockInterval?: number | undefined;
  /**
   * How long one fetch waits for a task when none is available, in ms (0 to 30 minutes).
   * @default workerDefaults.longPollingTimeout
   */
  readonly longPollingTimeout?: number | undefined;
  /**
   * The least time from the start of one fetch to the start of the next when a fetch found no task, in ms.
   * A long poll that waited its full time fetches again at once; an API that answers `[]` at once (no
   * long polling, or closed) is asked at most this often.
   * @default workerDefaults.pollInterval
   */
  readonly pollInterval?: number | undefined;
  /**
   * How long `stop()` waits for running handlers before aborting them, in ms.
   * @default workerDefaults.stopGracePeriod
   */
  readonly stopGracePeriod?: number | undefined;
  /**
   * The delays after failed fetches; every field optional.
   * @default workerDefaults.backoff
   */
  readonly backoff?: BackoffOptions | undefined;
  /**
   * Retries after handler failures; every field optional.
   * @default workerDefaults.retry
   */
  readonly retry?: RetryPolicyOptions | undefined;
  /** Where time and timers come from. @default systemClock */
  readonly clock?: Clock | undefined;
  /**
   * Receives what the worker cannot throw to anyone: a line per failed handler run, fetch and report
   * failures, lost locks.
   * @default consoleLogger
   */
  readonly logger?: Logger | undefined;
}

/** The options after defaults were applied and every value was checked. */
export interface ResolvedWorkerOptions {
  readonly topics: readonly string[];
  readonly handler: ExternalTaskHandler;
  readonly identity: Identity | undefined;
  readonly workerId: string;
  readonly concurrency: number;
  readonly maxTasks: number;
  readonly bufferSize: number;
  readonly maxBufferWait: number;
  readonly refillThreshold: number;
  readonly lockDuration: number;
  readonly extendLockInterval: number;
  readonly longPollingTimeout: number;
  readonly pollInterval: number;
  readonly stopGracePeriod: number;
  readonly backoff: DelaySchedule;
  readonly retry: ResolvedRetryPolicy;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * The options of a worker, ready to use: every default applied (with `??`, so 0 is kept, and `null` reads
 * as not given), every cross-field rule kept and every value checked. A bad option throws a `TypeError`
 * or `RangeError` naming it; the checks are those of the API's arguments (see {@link invalidOption}).
 */
export function resolveWorkerOptions(options: ExternalTaskWorkerOptions): ResolvedWorkerOptions {
  checkObject(invalidOption, 'options', options);
  return {
    topics: checkTopics(options.topic),
    handler: checkHandler(options.handler),
    identity: checkIdentity(options.identity),
    workerId: checkString(invalidOption, 'options.workerId', options.workerId ?? defaultWorkerId()),
    ...resolveCapacity(options),
    ...resolveLockingAndBuffering(options),
    ...resolvePolling(options),
    backoff: resolveBackoff(checkGroup('options.backoff', options.backoff)),
    retry: resolveRetry(checkGroup('options.retry', options.retry)),
    clock: checkImplements('options.clock', options.clock ?? systemClock, clockMethods),
    logger: checkImplements('options.logger', options.logger ?? consoleLogger, loggerMethods),
  };
}

/** A duration or count option: an integer from `min`, at most 2^31-1 unless told. */
function integerOption(name: string, value: unknown, min: number, max?: number): number {
  return checkInteger(invalidOption, `options.${name}`, value, min, max);
}

/** A factor or fraction option. */
function numberOption(name: string, value: unknown, min: number, max: number): number {
  return checkNumber(invalidOption, `options.${name}`, value, min, max);
}

/** The most tasks a worker may hold in its buffer. */
const maxBufferSize = 10_000;

/**
 * `concurrency`; `maxTasks`, which defaults to it (capped at what one fetch may ask for); `bufferSize`
 * and `refillThreshold`.
 */
function resolveCapacity(
  options: ExternalTaskWorkerOptions,
): Pick<ResolvedWorkerOptions, 'concurrency' | 'maxTasks' | 'bufferSize' | 'refillThreshold'> {
  const concurrency = integerOption('concurrency', options.concurrency ?? workerDefaults.concurrency, 1);
  const maxTasks = options.maxTasks ?? Math.min(concurrency, limits.maxTasks);
  const { bufferSize, refillThreshold } = workerDefaults;
  return {
    concurrency,
    maxTasks: integerOption('maxTasks', maxTasks, 1, limits.maxTasks),
    bufferSize: integerOption('bufferSize', options.bufferSize ?? bufferSize, 0, maxBufferSize),
    refillThreshold: numberOption('refillThreshold', options.refillThreshold ?? refillThreshold, 0, 1),
  };
}

/**
 * `lockDuration`; `extendLockInterval`: half of it by default, and always shorter (unless it is 1); and
 * `maxBufferWait`: half of what the interval leaves of the lock by default, and always less than that.
 */
function resolveLockingAndBuffering(
  options: ExternalTaskWorkerOptions,
): Pick<ResolvedWorkerOptions, 'lockDuration' | 'extendLockInterval' | 'maxBufferWait'> {
  const lockDuration = integerOption('lockDuration', options.lockDuration ?? workerDefaults.lockDuration, 1);
  const interval = options.extendLockInterval ?? Math.max(1, Math.floor(lockDuration / 2));
  const extendLockInterval = integerOption('extendLockInterval', interval, 1, Math.max(1, lockDuration - 1));
  const unextendedLock = lockDuration - extendLockInterval;
  const maxBufferWait = options.maxBufferWait ?? Math.floor(unextendedLock / 2);
  return {
    lockDuration,
    extendLockInterval,
    maxBufferWait: integerOption('maxBufferWait', maxBufferWait, 0, Math.max(0, unextendedLock - 1)),
  };
}

/** The fetch cadence and the stop grace period: independent durations. */
function resolvePolling(
  options: ExternalTaskWorkerOptions,
): Pick<ResolvedWorkerOptions, 'longPollingTimeout' | 'pollInterval' | 'stopGracePeriod'> {
  const { longPollingTimeout, pollInterval, stopGracePeriod } = workerDefaults;
  return {
    longPollingTimeout: integerOption(
      'longPollingTimeout',
      options.longPollingTimeout ?? longPollingTimeout,
      0,
      limits.maxLongPollingTimeout,
    ),
    pollInterval: integerOption('pollInterval', options.pollInterval ?? pollInterval, 0),
    stopGracePeriod: integerOption('stopGracePeriod', options.stopGracePeriod ?? stopGracePeriod, 0),
  };
}

/** The fetch back-off; `maxDelay` is at least `initialDelay` (and by default no less). */
function resolveBackoff(backoff: BackoffOptions): DelaySchedule {
  const defaults = workerDefaults.backoff;
  const initialDelay = integerOption(
    'backoff.initialDelay',
    backoff.initialDelay ?? defaults.initialDelay,
    0,
  );
  const maxDelay = backoff.maxDelay ?? Math.max(initialDelay, defaults.maxDelay);
  return {
    initialDelay,
    maxDelay: integerOption('backoff.maxDelay', maxDelay, initialDelay),
    factor: numberOption('backoff.factor', backoff.factor ?? defaults.factor, 1, 1e6),
    jitter: numberOption('backoff.jitter', backoff.jitter ?? defaults.jitter, 0, 1),
  };
}

/** The retry policy; `fixed` is a factor of 1, and `maxDelay` is at least `delay`. */
function resolveRetry(retry: RetryPolicyOptions): ResolvedRetryPolicy {
  const defaults = workerDefaults.retry;
  const strategy = retry.strategy ?? defaults.strategy;
  if (strategy !== 'fixed' && strategy !== 'exponential') {
    throw invalidOption({
      name: 'options.retry.strategy',
      expected: "'fixed' or 'exponential'",
      value: strategy,
      kind: 'range',
    });
  }
  const delay = integerOption('retry.delay', retry.delay ?? defaults.delay, 0);
  const maxDelay = retry.maxDelay ?? Math.max(delay, defaults.maxDelay);
  return {
    retries: integerOption('retry.retries', retry.retries ?? defaults.retries, 0, limits.maxRetries),
    initialDelay: delay,
    factor: strategy === 'fixed' ? 1 : numberOption('retry.factor', retry.factor ?? defaults.factor, 1, 1e6),
    maxDelay: integerOption('retry.maxDelay', maxDelay, delay),
    jitter: numberOption('retry.jitter', retry.jitter ?? defaults.jitter, 0, 1),
  };
}
