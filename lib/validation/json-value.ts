import { BadRequestError } from '../errors/index.js';
import type { JsonValue } from '../model/index.js';
import { limits } from './limits.js';
import { holdsUnstorableCharacter } from './value-checks.js';

function isPlainObject(value: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function refuse(path: string, reason: string): never {
  throw new BadRequestError(path, `${path} ${reason}; only JSON values are accepted.`);
}

/** An array or object already copied: its frozen copy, its size as JSON and how deep it nests. */
interface CopiedContainer {
  readonly value: JsonValue;
  readonly bytes: number;
  /** Nesting levels of arrays and objects, itself included. */
  readonly height: number;
}

/**
 * One copy of one argument. It counts the bytes the value takes as UTF-8 JSON while it copies, and refuses
 * as soon as they pass {@link limits.maxJsonBytes}: a value is never expanded beyond the limit, however
 * much its shared references would expand to. A sub-value referenced several times is copied once.
 */
class JsonCopy {
  private bytes = 0;
  private readonly ancestors = new Set<object>();
  private readonly copied = new Map<object, CopiedContainer>();

  constructor(
    private readonly argument: string,
    private readonly storableStrings: boolean,
  ) {}

  value(value: unknown, path: string): { readonly value: JsonValue; readonly height: number } {
    switch (typeof value) {
      case 'string':
        this.checkStorable(value, path);
        this.charge(this.stringBytes(value));
        return { value, height: 0 };
      case 'boolean':
        this.charge(value ? 4 : 5);
        return { value, height: 0 };
      case 'number':
        if (!Number.isFinite(value)) refuse(path, `is ${value}`);
        this.charge(JSON.stringify(value).length);
        return { value, height: 0 };
      case 'object':
        if (value === null) {
          this.charge(4);
          return { value, height: 0 };
        }
        return this.container(value, path);
      default:
        return refuse(path, `is a ${typeof value}`);
    }
  }

  private container(value: object, path: string): CopiedContainer {
    if (this.ancestors.has(value)) refuse(path, 'refers back to itself');
    const earlier = this.copied.get(value);
    // Deeper down than where it was copied, it may pass the depth limit: then copying it again says where.
    if (earlier && this.ancestors.size + earlier.height <= limits.maxJsonDepth) {
      this.charge(earlier.bytes);
      return earlier;
    }
    // The recursion is as deep as the value; a bound keeps a hostile value from exhausting the stack.
    if (this.ancestors.size >= limits.maxJsonDepth)
      refuse(path, `is nested deeper than ${limits.maxJsonDepth} levels`);
    const bytesBefore = this.bytes;
    this.ancestors.add(value);
    let height = 0;
    let copy: JsonValue;
    if (Array.isArray(value)) {
      const items: JsonValue[] = [];
      this.charge(2);
      // Indexed, not map(): map() skips the holes of a sparse array, which would survive the copy.
      for (let index = 0; index < value.length; index++) {
        const item: unknown = value[index];
        const itemPath = `${path}[${index}]`;
        if (item === undefined) refuse(itemPath, 'is undefined');
        if (index > 0) this.charge(1);
        const copied = this.value(item, itemPath);
        height = Math.max(height, copied.height);
        items.push(copied.value);
      }
      copy = Object.freeze(items);
    } else if (isPlainObject(value)) {
      const entries: Record<string, JsonValue> = {};
      this.charge(2);
      let first = true;
      for (const key of Object.keys(value)) {
        const item: unknown = (value as Record<string, unknown>)[key];
        // As JSON.stringify does, an undefined property is left out rather than refused.
        if (item === undefined) continue;
        this.checkStorable(key, `${path}.${key}`);
        this.charge((first ? 0 : 1) + this.stringBytes(key) + 1);
        first = false;
        const copied = this.value(item, `${path}.${key}`);
        height = Math.max(height, copied.height);
        // defineProperty, not assignment: a key named __proto__ must stay a key, not become the prototype.
        Object.defineProperty(entries, key, {
          value: copied.value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      copy = Object.freeze(entries);
    } else {
      refuse(path, `is a ${value.constructor?.name ?? 'non-plain object'}`);
    }
    this.ancestors.delete(value);
    const result = { value: copy, bytes: this.bytes - bytesBefore, height: height + 1 };
    this.copied.set(value, result);
    return result;
  }

  /**
   * The bytes of `text` as a JSON string; or, when even one byte per character would not fit, that lower
   * bound, so that a long string is refused without being escaped.
   */
  private stringBytes(text: string): number {
    const atLeast = text.length + 2;
    return atLeast > limits.maxJsonBytes - this.bytes ? atLeast : Buffer.byteLength(JSON.stringify(text));
  }

  private checkStorable(text: string, path: string): void {
    if (this.storableStrings && holdsUnstorableCharacter(text)) {
      throw new BadRequestError(
        path,
        `${path} holds a NUL character or an unpaired surrogate, which a failure's details cannot keep.`,
      );
    }
  }

  private charge(bytes: number): void {
    this.bytes += bytes;
    if (this.bytes > limits.maxJsonBytes) {
      throw new BadRequestError(
        this.argument,
        `${this.argument} is more than ${limits.maxJsonBytes} bytes as JSON; at most ${limits.maxJsonBytes} are accepted.`,
      );
    }
  }
}

/**
 * Checks that `value` is a JSON value of at most {@link limits.maxJsonBytes} and returns a deep, frozen
 * copy of it, so that the caller changing its object afterwards changes nothing stored. The size is
 * counted while copying, so a value is refused in time and memory bounded by the limit, never by what it
 * would expand to.
 *
 * @param argument - the argument's name, used in the error and as the root of nested paths.
 * @param options - `storableStrings`: refuse a string or key holding a NUL character or an unpaired
 * surrogate — for a value the stores read field by field (a failure's details, which PostgreSQL's JSON
 * functions cannot read with such a string in it); payloads and results keep them.
 * @throws {@link BadRequestError} naming the offending path (e.g. `result.items[3]`).
 */
export function copyJsonValue(
  argument: string,
  value: unknown,
  options: { readonly storableStrings?: boolean } = {},
): JsonValue {
  return new JsonCopy(argument, options.storableStrings ?? false).value(value, argument).value;
}
