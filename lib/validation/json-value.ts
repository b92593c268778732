import { BadRequestError } from '../errors/index.js';
import type { JsonValue } from '../model/index.js';
import { limits } from './limits.js';

function isPlainObject(value: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function refuse(path: string, reason: string): never {
  throw new BadRequestError(path, `${path} ${reason}; only JSON values are accepted.`);
}

function copy(value: unknown, path: string, ancestors: Set<object>): JsonValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : refuse(path, `is ${value}`);
    case 'object': {
      if (value === null) return null;
      if (ancestors.has(value)) refuse(path, 'refers back to itself');
      // The recursion is as deep as the value; a bound keeps a hostile value from exhausting the stack.
      if (ancestors.size >= limits.maxJsonDepth)
        refuse(path, `is nested deeper than ${limits.maxJsonDepth} levels`);
      ancestors.add(value);
      let result: JsonValue;
      if (Array.isArray(value)) {
        const items: JsonValue[] = [];
        // Indexed, not map(): map() skips the holes of a sparse array, which would survive the copy.
        for (let index = 0; index < value.length; index++) {
          const item: unknown = value[index];
          const itemPath = `${path}[${index}]`;
          items.push(item === undefined ? refuse(itemPath, 'is undefined') : copy(item, itemPath, ancestors));
        }
        result = Object.freeze(items);
      } else if (isPlainObject(value)) {
        const entries: Record<string, JsonValue> = {};
        for (const [key, item] of Object.entries(value)) {
          // As JSON.stringify does, an undefined property is left out rather than refused.
          // defineProperty, not assignment: a key named __proto__ must stay a key, not become the prototype.
          if (item !== undefined) {
            Object.defineProperty(entries, key, {
              value: copy(item, `${path}.${key}`, ancestors),
              enumerable: true,
              writable: true,
              configurable: true,
            });
          }
        }
        result = Object.freeze(entries);
      } else {
        refuse(path, `is a ${value.constructor?.name ?? 'non-plain object'}`);
      }
      ancestors.delete(value);
      return result;
    }
    default:
      return refuse(path, `is a ${typeof value}`);
  }
}

/**
 * Checks that `value` is a JSON value of at most {@link limits.maxJsonBytes} and returns a deep, frozen
 * copy of it, so that the caller changing its object afterwards changes nothing stored.
 *
 * @param argument - the argument's name, used in the error and as the root of nested paths.
 * @throws {@link BadRequestError} naming the offending path (e.g. `result.items[3]`).
 */
export function copyJsonValue(argument: string, value: unknown): JsonValue {
  const copied = copy(value, argument, new Set());
  const bytes = Buffer.byteLength(JSON.stringify(copied));
  if (bytes > limits.maxJsonBytes) {
    throw new BadRequestError(
      argument,
      `${argument} is ${bytes} bytes as JSON; at most ${limits.maxJsonBytes} are accepted.`,
    );
  }
  return copied;
}
