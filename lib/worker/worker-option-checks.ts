import type { Identity } from '../model/index.js';
import { checkMethods, checkString, describeProblem, limits, type Refusal } from '../validation/index.js';
import type { ExternalTaskHandler } from './task-handler.js';

/**
 * How the worker's constructor refuses an option: a `TypeError` for a wrong type, a `RangeError` for a
 * value out of range, saying the same sentence the API's argument checks say (their checks are shared).
 */
export const invalidOption: Refusal = (problem) => {
  const ErrorType = problem.kind === 'type' ? TypeError : RangeError;
  return new ErrorType(`ExternalTaskWorker: ${describeProblem(problem)}`);
};

/** `options.topic`: one topic name, or a list of 1 to {@link limits.maxTopics} distinct names. */
export function checkTopics(value: unknown): readonly string[] {
  const name = 'options.topic';
  if (!Array.isArray(value)) return Object.freeze([checkString(invalidOption, name, value)]);
  if (value.length === 0 || value.length > limits.maxTopics) {
    throw invalidOption({
      name,
      expected: `a topic name or an array of 1 to ${limits.maxTopics} topic names`,
      value,
      kind: 'range',
    });
  }
  const names = value.map((topic, index) => checkString(invalidOption, `${name}[${index}]`, topic));
  const duplicate = names.find((topic, index) => names.indexOf(topic) !== index);
  if (duplicate !== undefined) {
    throw invalidOption({ name, expected: 'a list of distinct topics', value: duplicate, kind: 'range' });
  }
  return Object.freeze(names);
}

/** `options.handler`: a function. */
export function checkHandler(value: unknown): ExternalTaskHandler {
  if (typeof value !== 'function') {
    throw invalidOption({ name: 'options.handler', expected: 'a function', value, kind: 'type' });
  }
  return value as ExternalTaskHandler;
}

/** `options.identity`: `undefined` or an object. */
export function checkIdentity(value: unknown): Identity | undefined {
  if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    throw invalidOption({ name: 'options.identity', expected: 'an object', value, kind: 'type' });
  }
  return value as Identity | undefined;
}

/** An object with every one of `methods` (a clock, a logger). */
export function checkImplements<T>(name: string, value: T, methods: readonly string[]): T {
  return checkMethods(invalidOption, name, value, methods);
}

/** An option that is a group of options (`backoff`, `retry`): `undefined` or `null` (all defaults) or an object. */
export function checkGroup<T extends object>(name: string, value: T | null | undefined): Partial<T> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw invalidOption({ name, expected: 'an object', value, kind: 'type' });
  }
  return value;
}
