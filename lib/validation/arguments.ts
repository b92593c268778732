import { BadRequestError } from '../errors/index.js';
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

/** A non-empty string of at most `maxLength` characters. */
export function requireString(
  argument: string,
  value: unknown,
  maxLength: number = limits.maxIdLength,
): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new BadRequestError(
      argument,
      `${argument} must be a non-empty string, got ${describeValue(value)}.`,
    );
  }
  return withinLength(argument, value, maxLength);
}

/** `undefined`, or a string (possibly empty) of at most `maxLength` characters: free text. */
export function optionalText(argument: string, value: unknown, maxLength: number): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    throw new BadRequestError(argument, `${argument} must be a string, got ${describeValue(value)}.`);
  }
  return withinLength(argument, value, maxLength);
}

function withinLength(argument: string, value: string, maxLength: number): string {
  if (value.length > maxLength) {
    throw new BadRequestError(
      argument,
      `${argument} must be at most ${maxLength} characters, got ${value.length}.`,
    );
  }
  return value;
}

/** Like {@link requireString}, but `undefined` passes through. */
export function optionalString(
  argument: string,
  value: unknown,
  maxLength: number = limits.maxIdLength,
): string | undefined {
  return value === undefined ? undefined : requireString(argument, value, maxLength);
}

/** A safe integer within `[min, max]`. */
export function requireInteger(argument: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new BadRequestError(argument, `${argument} must be an integer, got ${describeValue(value)}.`);
  }
  if (value < min || value > max) {
    throw new BadRequestError(argument, `${argument} must be between ${min} and ${max}, got ${value}.`);
  }
  return value;
}

/** A lock duration in milliseconds: 1 to 2^31-1. */
export function requireDuration(argument: string, value: unknown): number {
  return requireInteger(argument, value, 1, limits.maxDuration);
}

/** A plain object (for option bags and identities). */
export function requireObject(argument: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BadRequestError(argument, `${argument} must be an object, got ${describeValue(value)}.`);
  }
  return value as Record<string, unknown>;
}
