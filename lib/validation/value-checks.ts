import { limits } from './limits.js';

/** A short description of `value` for an error message: `"abc"`, `42`, `true`, `null`, `an array`, … */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

/** What a value that a check refuses is wrong in: its type, or its range (a length, a bound). */
export type ProblemKind = 'type' | 'range';

/** What a check found wrong with a value: `name` must be `expected`, got `value`. */
export interface ValueProblem {
  readonly name: string;
  readonly expected: string;
  readonly value: unknown;
  readonly kind: ProblemKind;
}

/**
 * Turns a problem into the error its caller throws: the API answers a `BadRequestError`, the worker's
 * constructor a `TypeError` or `RangeError`. The checks below are the one vocabulary of both, so a limit
 * reads the same wherever it is enforced.
 */
export type Refusal = (problem: ValueProblem) => Error;

/** `<name> must be <expected>, got <value>.` — the sentence every refusal says. */
export function describeProblem({ name, expected, value }: ValueProblem): string {
  return `${name} must be ${expected}, got ${describeValue(value)}.`;
}

/** A high surrogate without a low one after it, or a low one without a high one before it. */
const unpairedSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Whether `text` holds a NUL character (no PostgreSQL text can hold one) or an unpaired surrogate (no
 * UTF-8 text can): a JavaScript string with one of them cannot be kept as it is by every store.
 */
export function holdsUnstorableCharacter(text: string): boolean {
  return text.includes('\u0000') || unpairedSurrogate.test(text);
}

/** `text` with each NUL character and unpaired surrogate replaced by U+FFFD: text every store keeps. */
export function storableText(text: string): string {
  if (!holdsUnstorableCharacter(text)) return text;
  return text.replaceAll('\u0000', '\ufffd').replace(new RegExp(unpairedSurrogate, 'g'), '\ufffd');
}

/** A non-empty string of at most `maxLength` characters (ids, names, codes). */
export function checkString(
  refuse: Refusal,
  name: string,
  value: unknown,
  maxLength: number = limits.maxIdLength,
): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw refuse({ name, expected: 'a non-empty string', value, kind: 'type' });
  }
  return checkLength(refuse, name, value, maxLength);
}

/** `undefined`, or a string (possibly empty) of at most `maxLength` characters: free text. */
export function checkOptionalText(
  refuse: Refusal,
  name: string,
  value: unknown,
  maxLength: number,
): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw refuse({ name, expected: 'a string', value, kind: 'type' });
  return checkLength(refuse, name, value, maxLength);
}

function checkLength(refuse: Refusal, name: string, value: string, maxLength: number): string {
  if (value.length > maxLength) {
    throw refuse({ name, expected: `at most ${maxLength} characters long`, value, kind: 'range' });
  }
  if (holdsUnstorableCharacter(value)) {
    throw refuse({ name, expected: 'free of NUL characters and unpaired surrogates', value, kind: 'type' });
  }
  return value;
}

/** A safe integer from `min` to `max` (by default at most 2^31-1 ms, the longest a timer can wait). */
export function checkInteger(
  refuse: Refusal,
  name: string,
  value: unknown,
  min: number,
  max: number = limits.maxDuration,
): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw refuse({ name, expected: 'an integer', value, kind: 'type' });
  }
  if (value < min || value > max) {
    throw refuse({ name, expected: `an integer from ${min} to ${max}`, value, kind: 'range' });
  }
  return value;
}

/** A finite number from `min` to `max` (factors and fractions). */
export function checkNumber(refuse: Refusal, name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw refuse({ name, expected: 'a finite number', value, kind: 'type' });
  }
  if (value < min || value > max) {
    throw refuse({ name, expected: `from ${min} to ${max}`, value, kind: 'range' });
  }
  return value;
}

/** `undefined`, or `true` or `false` (switches). */
export function checkOptionalBoolean(refuse: Refusal, name: string, value: unknown): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') {
    throw refuse({ name, expected: 'true or false', value, kind: 'type' });
  }
  return value;
}

/** A plain object: not `null`, not an array. */
export function checkObject(refuse: Refusal, name: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw refuse({ name, expected: 'an object', value, kind: 'type' });
  }
  return value as Record<string, unknown>;
}

/** An object with every one of `methods` (a clock, a logger, an access policy). */
export function checkMethods<T>(refuse: Refusal, name: string, value: T, methods: readonly string[]): T {
  const target = value as Record<string, unknown> | null;
  if (typeof target !== 'object' || target === null || methods.some((m) => typeof target[m] !== 'function')) {
    throw refuse({ name, expected: `an object with ${methods.join(', ')}`, value, kind: 'type' });
  }
  return value;
}
