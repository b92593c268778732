import { BadRequestError } from '../errors/index.js';
import type { RetryRequest, TopicClaim } from '../repository/index.js';
import {
  limits,
  requireDuration,
  requireInteger,
  requireObject,
  requireString,
} from '../validation/index.js';
import type { FetchAndLockOptions, ServiceErrorOptions } from './external-task-service.js';

/** A fetch whose arguments have been checked. */
export interface ValidFetch {
  readonly workerId: string;
  readonly topics: readonly TopicClaim[];
  readonly maxTasks: number;
  readonly longPollingTimeout: number;
  readonly signal: AbortSignal | undefined;
}

/** Checks the spec's positional fetch arguments, naming them as the caller knows them. */
export function validatePositionalFetch(
  workerId: unknown,
  topicName: unknown,
  maxTasks: unknown,
  longPollingTimeout: unknown,
  lockDuration: unknown,
): ValidFetch {
  return {
    workerId: requireString('workerId', workerId),
    topics: [
      {
        topicName: requireString('topicName', topicName),
        lockDuration: requireDuration('lockDuration', lockDuration),
      },
    ],
    maxTasks: requireInteger('maxTasks', maxTasks, 1, limits.maxTasks),
    longPollingTimeout: requireInteger(
      'longPollingTimeout',
      longPollingTimeout,
      0,
      limits.maxLongPollingTimeout,
    ),
    signal: undefined,
  };
}

/** Checks the options form of a fetch. */
export function validateFetchOptions(options: FetchAndLockOptions): ValidFetch {
  requireObject('options', options);
  const { topics, signal } = options;
  if (!Array.isArray(topics) || topics.length === 0 || topics.length > limits.maxTopics) {
    throw new BadRequestError('topics', `topics must be an array of 1 to ${limits.maxTopics} topics.`);
  }
  const seen = new Set<string>();
  const validTopics = topics.map((topic: unknown, index): TopicClaim => {
    const { topicName, lockDuration } = requireObject(`topics[${index}]`, topic);
    const name = requireString(`topics[${index}].topicName`, topicName);
    if (seen.has(name))
      throw new BadRequestError(`topics[${index}].topicName`, `topic ${name} is listed twice.`);
    seen.add(name);
    return { topicName: name, lockDuration: requireDuration(`topics[${index}].lockDuration`, lockDuration) };
  });
  requireOptionalSignal(signal);
  return {
    workerId: requireString('workerId', options.workerId),
    topics: validTopics,
    maxTasks: requireInteger('maxTasks', options.maxTasks, 1, limits.maxTasks),
    longPollingTimeout:
      options.longPollingTimeout === undefined
        ? 0
        : requireInteger('longPollingTimeout', options.longPollingTimeout, 0, limits.maxLongPollingTimeout),
    signal,
  };
}

/** `signal` when it is `undefined` or an `AbortSignal`. @throws BadRequestError naming `signal` */
export function requireOptionalSignal(signal: unknown): AbortSignal | undefined {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new BadRequestError('signal', 'signal must be an AbortSignal.');
  }
  return signal;
}

/** Checks a service error's retry options; `undefined` when no retry is asked for. */
export function validateRetry(options: ServiceErrorOptions | undefined): RetryRequest | undefined {
  if (options === undefined) return undefined;
  requireObject('options', options);
  const { retries, retryTimeout } = options;
  if (retries === undefined) {
    if (retryTimeout !== undefined) {
      throw new BadRequestError(
        'options.retries',
        'options.retryTimeout needs options.retries (how often to retry).',
      );
    }
    return undefined;
  }
  return {
    retries: requireInteger('options.retries', retries, 0, limits.maxRetries),
    retryTimeout:
      retryTimeout === undefined
        ? 0
        : requireInteger('options.retryTimeout', retryTimeout, 0, limits.maxDuration),
  };
}
