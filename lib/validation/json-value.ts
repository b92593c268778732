import { BadRequestError } from '../errors/index.js';
import type { JsonValue } from '../model/index.js';
import { limits } from './limits.js';
import { holdsUnstorableCharacter } from './value-checks.js';

function isPlainObject(value: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** An array or object already copied: its frozen copy, its size as JSON and how deep it nests. */
interface CopiedContainer {
  readonly value: JsonValue;
  readonly bytes: number;
  /** Nesting levels of arrays and objects, itself included. */
  readonly height: number;
}

/** What a container being copied maps to until it is done: meeting it again is a cycle. */
const beingCopied: CopiedContainer = Object.freeze({ value: null, bytes: 0, height: 0 });

/**
 * One copy of one argument. It counts the bytes the value takes as UTF-8 JSON while it copies, and refuses
 * as soon as they pass {@link limits.maxJsonBytes}: a value is never expanded beyond the limit, however
 * much its shared references would expand to. A sub-value referenced several times is copied once.
 * A value without nested containers (a flat object or array, a string) copies without any lookup
 * table, and the path of a refused value is only put together on the way out (see {@link Refused}).
 */
class JsonCopy {
  private bytes = 0;
  /** How many containers are being copied around the current value. */
  private depth = 0;
  /** The height of the value copied last (0 for a scalar). */
  private height = 0;
  /** The outermost container, while it is copied and no table holds it yet. */
  private root: object | undefined;
  /** Every container met below the outermost one: copied, or `beingCopied`. Made at the first. */
  private copied: Map<object, CopiedContainer> | undefined;

  constructor(
    private readonly argument: string,
    private readonly storableStrings: boolean,
  ) {}

  value(value: unknown): JsonValue {
    switch (typeof value) {
      case 'string':
        this.checkStorable(value);
        this.charge(this.stringBytes(value));
        this.height = 0;
        return value;
      case 'boolean':
        this.charge(value ? 4 : 5);
        this.height = 0;
        return value;
      case 'number':
        if (!Number.isFinite(value)) this.refuse(`is ${value}`);
        this.charge(numberBytes(value));
        this.height = 0;
        return value;
      case 'object':
        if (value === null) {
          this.charge(4);
          this.height = 0;
          return value;
        }
        return this.container(value);
      default:
        return this.refuse(`is a ${typeof value}`);
    }
  }

  private container(value: object): JsonValue {
    let copied = this.copied;
    if (this.depth > 0 && copied === undefined) {
      copied = this.copied = new Map();
      copied.set(this.root as object, beingCopied);
    }
    const earlier = copied?.get(value);
    if (earlier === beingCopied) this.refuse('refers back to itself');
    // Deeper down than where it was copied, it may pass the depth limit: then copying it again says where.
    if (earlier && this.depth + earlier.height <= limits.maxJsonDepth) {
      this.charge(earlier.bytes);
      this.height = earlier.height;
      return earlier.value;
    }
    // The recursion is as deep as the value; a bound keeps a hostile value from exhausting the stack.
    if (this.depth >= limits.maxJsonDepth) this.refuse(`is nested deeper than ${limits.maxJsonDepth} levels`);
    const bytesBefore = this.bytes;
    if (copied) copied.set(value, beingCopied);
    else this.root = value;
    this.depth++;
    let height = 0;
    let copy: JsonValue;
    if (Array.isArray(value)) {
      const items: JsonValue[] = [];
      this.charge(2);
      // Indexed, not map(): map() skips the holes of a sparse array, which would survive the copy.
      for (let index = 0; index < value.length; index++) {
        const item: unknown = value[index];
        try {
          if (item === undefined) this.refuse('is undefined');
          if (index > 0) this.charge(1);
          items.push(this.value(item));
        } catch (error) {
          throw passedThrough(error, index);
        }
        if (this.height > height) height = this.height;
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
        let copiedItem: JsonValue;
        try {
          this.checkStorable(key);
          this.charge((first ? 0 : 1) + this.stringBytes(key) + 1);
          copiedItem = this.value(item);
        } catch (error) {
          throw passedThrough(error, key);
        }
        first = false;
        if (this.height > height) height = this.height;
        // A key named __proto__ must stay a key, not become the prototype: defined, not assigned.
        if (key === '__proto__') {
          Object.defineProperty(entries, key, {
            value: copiedItem,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        } else {
          entries[key] = copiedItem;
        }
      }
      copy = Object.freeze(entries);
    } else {
      return this.refuse(`is a ${value.constructor?.name ?? 'non-plain object'}`);
    }
    this.depth--;
    this.height = height + 1;
    if (copied) copied.set(value, { value: copy, bytes: this.bytes - bytesBefore, height: this.height });
    else this.root = undefined;
    return copy;
  }

  /**
   * The bytes of `text` as a JSON string; or, when even one byte per character would not fit, that lower
   * bound, so that a long string is refused without being escaped.
   */
  private stringBytes(text: string): number {
    const atLeast = text.length + 2;
    if (atLeast > limits.maxJsonBytes - this.bytes) return atLeast;
    // Printable ASCII other than a quote or a backslash is written as it is: one byte a character.
    for (let index = 0; index < text.length; index++) {
      const code = text.charCodeAt(index);
      if (code < 0x20 || code > 0x7e || code === 0x22 || code === 0x5c)
        return Buffer.byteLength(JSON.stringify(text));
    }
    return atLeast;
  }

  private checkStorable(text: string): void {
    if (this.storableStrings && holdsUnstorableCharacter(text)) {
      throw new Refused(
        (path) =>
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

  /** Refuses the current value for `reason`. */
  private refuse(reason: string): never {
    throw new Refused((path) => `${path} ${reason}; only JSON values are accepted.`);
  }
}

/**
 * A refused value on its way out of the copy: each container it passes adds the key or index it sat
 * under, and the copy's caller spells the path out (e.g. `result.items[3]`) — so a copy that succeeds
 * never writes a path down.
 */
class Refused extends Error {
  /** The keys and indexes from the refused value outwards. */
  readonly steps: (string | number)[] = [];

  constructor(readonly describe: (path: string) => string) {
    super('a value that is not JSON');
  }

  /** The error naming the refused value's path from `argument`. */
  error(argument: string): BadRequestError {
    let path = argument;
    for (let index = this.steps.length - 1; index >= 0; index--) {
      const step = this.steps[index] as string | number;
      path += typeof step === 'number' ? `[${step}]` : `.${step}`;
    }
    return new BadRequestError(path, this.describe(path));
  }
}

/** `error`, noted as having passed the key or index `step` if it is a {@link Refused}. */
function passedThrough(error: unknown, step: string | number): unknown {
  if (error instanceof Refused) error.steps.push(step);
  return error;
}

/** The bytes of a finite number as JSON: counted for a safe integer, written out otherwise. */
function numberBytes(value: number): number {
  if (!Number.isSafeInteger(value)) return JSON.stringify(value).length;
  let bytes = value < 0 ? 2 : 1;
  for (let rest = Math.abs(value); rest >= 10; rest = Math.floor(rest / 10)) bytes++;
  return bytes;
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
  try {
    return new JsonCopy(argument, options.storableStrings ?? false).value(value);
  } catch (error) {
    throw error instanceof Refused ? error.error(argument) : error;
  }
}
