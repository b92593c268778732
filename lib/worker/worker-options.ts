import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { systemClock, type Clock } from '../clock/index.js';
import { consoleLogger, type Logger } from '../logging/index.js';
import type { Identity, JsonValue } from '../model/index.js';
import { describeValue, limits } from '../validation/index.js';
import type { DelaySchedule } from './backoff.js';
import type { ResolvedRetryPolicy } from './retry-policy.js';
import type { ExternalTaskHandler } from './task-handler.js';

/** The waits after failed fetches: `initialDelay`, then × `factor` per failure, up to `maxDelay`. */
export interface BackoffOptions {
  /** The delay after the first failed fetch, in ms. @default 1000 */
  readonly initialDelay?: number | undefined;
  /** The longest delay, in ms. @default 30000 */
  readonly maxDelay?: number | undefined;
  /** Each further failure multiplies the delay by this (≥ 1). @default 2 */
  readonly factor?: number | undefined;
  /**
   * How much randomness to take off each delay, from 0 to 1: a delay `d` becomes a random value in
   * `[d × (1 − jitter), d]`, so many workers that failed together do not retry together.
   * @default 0.2
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
  /** Retries for a task that carries no budget of its own (0 to 1,000,000). @default 0 */
  readonly retries?: number | undefined;
  /** `fixed`: every retry waits `delay`; `exponential`: `delay × factor^n`, up to `maxDelay`. @default 'exponential' */
  readonly strategy?: 'fixed' | 'exponential' | undefined;
  /** The delay before the first retry, in ms. @default 1000 */
  readonly delay?: number | undefined;
  /** For `exponential`: the growth per attempt (≥ 1). @default 2 */
  readonly factor?: number | undefined;
  /** The longest delay, in ms. @default 300000 */
  readonly maxDelay?: number | undefined;
  /** How much randomness to take off each delay, 0 to 1 (as for `backoff`). @default 0.2 */
  readonly jitter?: number | undefined;
}

/**
 * Options of {@link ExternalTaskWorker}.
 * @typeParam Payload - The payload shape of the topic's tasks, as the handler sees it. @default JsonValue
 * @typeParam Result - What the handler returns. @default unknown (anything)
 */
export interface ExternalTaskWorkerOptions<Payload = JsonValue, Result = unknown> {
  /** The topic to fetch tasks of, or several topics (fetched together, in one call). Required. */
  readonly topic: string | readonly string[];
  /** The code that works on one task; see {@link ExternalTaskHandler}. Required. */
  readonly handler: ExternalTaskHandler<Payload, Result>;
  /** The identity every call to the API is made with. @default undefined (the API's policy decides) */
  readonly identity?: Identity | undefined;
  /**
   * The id the worker locks tasks under. Two workers must never share one.
   * @default `${hostname}-${pid}-${randomUUID()}`, unique per worker
   */
  readonly workerId?: string | undefined;
  /** Handlers that may run at once. @default 5 */
  readonly concurrency?: number | undefined;
  /**
   * The most tasks one fetch asks for (1 to 1000); a fetch never asks for more than the free slots.
   * @default concurrency (capped at 1000)
   */
  readonly maxTasks?: number | undefined;
  /** How long a fetched task stays locked, and what each extension renews it to, in ms. @default 60000 */
  readonly lockDuration?: number | undefined;
  /**
   * How often the lock of a running task is extended, in ms; less than `lockDuration`.
   * @default lockDuration / 2 (rounded down)
   */
  readonly extendLockInterval?: number | undefined;
  /** How long one fetch waits for a task when none is available, in ms (0 to 30 minutes). @default 30000 */
  readonly longPollingTimeout?: number | undefined;
  /**
   * The least time from the start of one fetch to the start of the next when a fetch found no task, in ms.
   * A long poll that waited its full time fetches again at once; an API that answers `[]` at once (no
   * long polling, or closed) is asked at most this often.
   * @default 1000
   */
  readonly pollInterval?: number | undefined;
  /** How long `stop()` waits for running handlers before aborting them, in ms. @default 10000 */
  readonly stopGracePeriod?: number | undefined;
  /**
   * The delays after failed fetches; every field optional.
   * @default { initialDelay: 1000, maxDelay: 30000, factor: 2, jitter: 0.2 }
   */
  readonly backoff?: BackoffOptions | undefined;
  /**
   * Retries after handler failures; every field optional.
   * @default { retries: 0, strategy: 'exponential', delay: 1000, factor: 2, maxDelay: 300000, jitter: 0.2 }
   */
  readonly retry?: RetryPolicyOptions | undefined;
  /** Where time and timers come from. @default systemClock */
  readonly clock?: Clock | undefined;
  /**
   * Receives what the worker cannot throw to anyone (fetch and report failures, lost locks).
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

/** The defaults of {@link ExternalTaskWorkerOptions} that do not depend on other options. */
export const workerDefaults = Object.freeze({
  concurrency: 5,
  lockDuration: 60_000,
  longPollingTimeout: 30_000,
  pollInterval: 1000,
  stopGracePeriod: 10_000,
  backoff: Object.freeze({ initialDelay: 1000, maxDelay: 30_000, factor: 2, jitter: 0.2 }),
  retry: Object.freeze({
    retries: 0,
    strategy: 'exponential',
    delay: 1000,
    factor: 2,
    maxDelay: 300_000,
    jitter: 0.2,
  }),
});

/** A worker id unique to this worker: host, process and a random UUID. */
export function defaultWorkerId(): string {
  return `${hostname().slice(0, 100)}-${process.pid}-${randomUUID()}`;
}

/** Applies the defaults (with `??`, so 0 is kept) and checks every option (TypeError or RangeError). */
export function resolveWorkerOptions(options: ExternalTaskWorkerOptions): ResolvedWorkerOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`ExternalTaskWorker: options must be an object, got ${describeValue(options)}.`);
  }
  const maxDuration = limits.maxDuration;
  const concurrency = integer('concurrency', options.concurrency ?? workerDefaults.concurrency, 1);
  const lockDuration = integer('lockDuration', options.lockDuration ?? workerDefaults.lockDuration, 1);
  const extendLockInterval = integer(
    'extendLockInterval',
    options.extendLockInterval ?? Math.max(1, Math.floor(lockDuration / 2)),
    1,
    Math.max(1, lockDuration - 1),
  );
  const backoff = options.backoff ?? {};
  if (typeof backoff !== 'object' || backoff === null) {
    throw new TypeError(
      `ExternalTaskWorker: options.backoff must be an object, got ${describeValue(backoff)}.`,
    );
  }
  const retry = options.retry ?? {};
  if (typeof retry !== 'object' || retry === null) {
    throw new TypeError(`ExternalTaskWorker: options.retry must be an object, got ${describeValue(retry)}.`);
  }
  const strategy = retry.strategy ?? workerDefaults.retry.strategy;
  if (strategy !== 'fixed' && strategy !== 'exponential') {
    throw invalid('retry.strategy', "'fixed' or 'exponential'", strategy, RangeError);
  }
  const retryDelay = integer('retry.delay', retry.delay ?? workerDefaults.retry.delay, 0);
  const initialDelay = integer(
    'backoff.initialDelay',
    backoff.initialDelay ?? workerDefaults.backoff.initialDelay,
    0,
  );
  return {
    topics: topics(options.topic),
    handler: handler(options.handler),
    identity: identity(options.identity),
    workerId: workerId(options.workerId ?? defaultWorkerId()),
    concurrency,
    maxTasks: integer(
      'maxTasks',
      options.maxTasks ?? Math.min(concurrency, limits.maxTasks),
      1,
      limits.maxTasks,
    ),
    lockDuration,
    extendLockInterval,
    longPollingTimeout: integer(
      'longPollingTimeout',
      options.longPollingTimeout ?? workerDefaults.longPollingTimeout,
      0,
      limits.maxLongPollingTimeout,
    ),
    pollInterval: integer('pollInterval', options.pollInterval ?? workerDefaults.pollInterval, 0),
    stopGracePeriod: integer('stopGracePeriod', options.stopGracePeriod ?? workerDefaults.stopGracePeriod, 0),
    backoff: {
      initialDelay,
      maxDelay: integer(
        'backoff.maxDelay',
        backoff.maxDelay ?? Math.max(initialDelay, workerDefaults.backoff.maxDelay),
        initialDelay,
        maxDuration,
      ),
      factor: number('backoff.factor', backoff.factor ?? workerDefaults.backoff.factor, 1, 1e6),
      jitter: number('backoff.jitter', backoff.jitter ?? workerDefaults.backoff.jitter, 0, 1),
    },
    retry: {
      retries: integer('retry.retries', retry.retries ?? workerDefaults.retry.retries, 0, limits.maxRetries),
      initialDelay: retryDelay,
      factor:
        strategy === 'fixed'
          ? 1
          : number('retry.factor', retry.factor ?? workerDefaults.retry.factor, 1, 1e6),
      maxDelay: integer(
        'retry.maxDelay',
        retry.maxDelay ?? Math.max(retryDelay, workerDefaults.retry.maxDelay),
        retryDelay,
        maxDuration,
      ),
      jitter: number('retry.jitter', retry.jitter ?? workerDefaults.retry.jitter, 0, 1),
    },
    clock: implementing('clock', options.clock ?? systemClock, ['now', 'setTimeout', 'clearTimeout']),
    logger: implementing('logger', options.logger ?? consoleLogger, ['error', 'warn']),
  };
}

function invalid(name: string, expected: string, value: unknown, ErrorType = TypeError): Error {
  return new ErrorType(
    `ExternalTaskWorker: options.${name} must be ${expected}, got ${describeValue(value)}.`,
  );
}

function number(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(name, 'a finite number', value);
  if (value < min || value > max) throw invalid(name, `from ${min} to ${max}`, value, RangeError);
  return value;
}

/** Durations and counts: integers from `min`, and at most 2^31-1 (the longest a timer can wait). */
function integer(name: string, value: unknown, min: number, max: number = limits.maxDuration): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw invalid(name, 'an integer', value);
  if (value < min || value > max) throw invalid(name, `an integer from ${min} to ${max}`, value, RangeError);
  return value;
}

function topicName(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw invalid(name, 'a non-empty string', value);
  if (value.length > limits.maxIdLength) {
    throw invalid(name, `at most ${limits.maxIdLength} characters long`, value, RangeError);
  }
  return value;
}

function topics(value: unknown): readonly string[] {
  if (!Array.isArray(value)) return Object.freeze([topicName('topic', value)]);
  if (value.length === 0 || value.length > limits.maxTopics) {
    throw invalid(
      'topic',
      `a topic name or an array of 1 to ${limits.maxTopics} topic names`,
      value,
      RangeError,
    );
  }
  const names = value.map((name, index) => topicName(`topic[${index}]`, name));
  const duplicate = names.find((name, index) => names.indexOf(name) !== index);
  if (duplicate !== undefined) throw invalid('topic', 'a list of distinct topics', duplicate, RangeError);
  return Object.freeze(names);
}

function handler(value: unknown): ExternalTaskHandler {
  if (typeof value !== 'function') throw invalid('handler', 'a function', value);
  return value as ExternalTaskHandler;
}

function identity(value: unknown): Identity | undefined {
  if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    throw invalid('identity', 'an object', value);
  }
  return value as Identity | undefined;
}

function workerId(value: unknown): string {
  return topicName('workerId', value);
}

function implementing<T>(name: string, value: T, methods: readonly string[]): T {
  const target = value as Record<string, unknown> | null;
  if (typeof target !== 'object' || target === null || methods.some((m) => typeof target[m] !== 'function')) {
    throw invalid(name, `an object with ${methods.join(', ')}`, value);
  }
  return value;
}
