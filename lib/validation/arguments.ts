import { BadRequestError } from '../errors/index.js';
import { limits } from './limits.js';
import {
  checkInteger,
  checkMethods,
  checkNumber,
  checkObject,
  checkOptionalBoolean,
  checkOptionalText,
  checkString,
  describeProblem,
  describeValue,
  type Refusal,
} from './value-checks.js';

/** How a request argument is refused: a {@link BadRequestError} (400) naming it. */
const badRequest: Refusal = (problem) => new BadRequestError(problem.name, describeProblem(problem));

/** A non-empty string of at most `maxLength` characters. */
export function requireString(
  argument: string,
  value: unknown,
  maxLength: number = limits.maxIdLength,
): string {
  return checkString(badRequest, argument, value, maxLength);
}

/** `undefined`, or a string (possibly empty) of at most `maxLength` characters: free text. */
export function optionalText(argument: string, value: unknown, maxLength: number): string | undefined {
  return checkOptionalText(badRequest, argument, value, maxLength);
}

/** Like {@link requireString}, but `undefined` passes through. */
export function optionalString(
  argument: string,
  value: unknown,
  maxLength: number = limits.maxIdLength,
): string | undefined {
  return value === undefined ? undefined : requireString(argument, value, maxLength);
}

/** `undefined`, or `true` or `false`. */
export function optionalBoolean(argument: string, value: unknown): boolean | undefined {
  return checkOptionalBoolean(badRequest, argument, value);
}

/** A safe integer within `[min, max]`. */
export function requireInteger(argument: string, value: unknown, min: number, max: number): number {
  return checkInteger(badRequest, argument, value, min, max);
}

/** A finite number within `[min, max]` (a factor). */
export function requireNumber(argument: string, value: unknown, min: number, max: number): number {
  return checkNumber(badRequest, argument, value, min, max);
}

/** A lock duration in milliseconds: 1 to 2^31-1. */
export function requireDuration(argument: string, value: unknown): number {
  return requireInteger(argument, value, 1, limits.maxDuration);
}

/** A plain object (for option bags and identities). */
export function requireObject(argument: string, value: unknown): Record<string, unknown> {
  return checkObject(badRequest, argument, value);
}

/** An object with every one of `methods` (a clock, a logger). */
export function requireMethods<T>(argument: string, value: T, methods: readonly string[]): T {
  return checkMethods(badRequest, argument, value, methods);
}

/**
 * Checks the callbacks of an options object: each of `required` a function, each of `optional` a function
 * or absent; anything else is refused naming the option and what it got.
 */
export function requireCallbacks(
  options: object,
  required: readonly string[],
  optional: readonly string[] = [],
): void {
  const values = options as Record<string, unknown>;
  for (const name of [...required, ...optional]) {
    const value = values[name];
    if (typeof value === 'function' || (value === undefined && optional.includes(name))) continue;
    throw new BadRequestError(name, `${name} must be a function, got ${describeValue(value)}.`);
  }
}

/**
 * An option that was renamed: its value under the new `name`, or under the deprecated `oldName` (accepted
 * until that is removed), with the name it came under, so that a bad value is refused naming what the
 * caller wrote. Both at once is refused, naming both, rather than one silently winning.
 */
export function renamedOption<T>(
  name: string,
  value: T | undefined,
  oldName: string,
  oldValue: T | undefined,
): { readonly argument: string; readonly value: T | undefined } {
  if (value !== undefined && oldValue !== undefined)
    throw new BadRequestError(name, `Give ${name} or its deprecated old name ${oldName}, not both.`);
  return oldValue === undefined ? { argument: name, value } : { argument: oldName, value: oldValue };
}
