import { BadRequestError } from '../errors/index.js';
import type { BpmnFailure, JsonValue, ServiceFailure } from '../model/index.js';
import type { RetryRequest, TopicClaim } from '../repository/index.js';
import {
  copyJsonValue,
  limits,
  optionalText,
  requireDuration,
  requireInteger,
  requireObject,
  requireString,
} from '../validation/index.js';
import type { FetchAndLockOptions, ServiceErrorOptions } from './external-task-service.js';

// The checks of the worker operations' arguments, one function per argument group, shared by the
// in-process API and the HTTP client: both refuse the same values with the same BadRequestError, the
// client before it sends anything.

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

/** The ids every operation on a held task names: the worker's and the task's. */
export interface HeldTaskIds {
  readonly workerId: string;
  readonly externalTaskId: string;
}

/** Checks the ids of an operation on a task the worker holds. */
export function validateHeldTask(workerId: unknown, externalTaskId: unknown): HeldTaskIds {
  return {
    workerId: requireString('workerId', workerId),
    externalTaskId: requireString('externalTaskId', externalTaskId),
  };
}

/** Checks an extension's `additionalDuration`: 1 ms to 2^31-1 ms. */
export function validateAdditionalDuration(additionalDuration: unknown): number {
  return requireDuration('additionalDuration', additionalDuration);
}

/** A finish's `result` as a frozen JSON copy; `undefined` for none. */
export function validateResult(result: unknown): JsonValue | undefined {
  return result === undefined ? undefined : copyJsonValue('result', result);
}

/** Checks a BPMN error's code and optional message. */
export function validateBpmnError(errorCode: unknown, errorMessage: unknown): BpmnFailure {
  const message = optionalText('errorMessage', errorMessage, limits.maxMessageLength);
  const code = requireString('errorCode', errorCode);
  // Literals of one shape each: a spread into an object literal takes V8's slow path.
  return Object.freeze(
    message === undefined
      ? { type: 'bpmn', errorCode: code }
      : { type: 'bpmn', errorCode: code, errorMessage: message },
  );
}

/** Checks a service error's message and optional details (a JSON value, copied). */
export function validateServiceError(errorMessage: unknown, errorDetails: unknown): ServiceFailure {
  const message = requireString('errorMessage', errorMessage, limits.maxMessageLength);
  return Object.freeze(
    errorDetails === undefined
      ? { type: 'service', errorMessage: message }
      : {
          type: 'service',
          errorMessage: message,
          errorDetails: copyJsonValue('errorDetails', errorDetails, { storableStrings: true }),
        },
  );
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
