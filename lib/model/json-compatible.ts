import type { JsonValue } from './external-task.js';

declare const notJson: unique symbol;

/**
 * Stands, in {@link JsonCompatible}, where a declared type holds what JSON cannot carry, and names it: a
 * value of the declared type is not assignable to it, so the compiler's error says what to change, e.g.
 * `Type 'Date' is not assignable to type 'NotJson<"a Date: declare an ISO string (toISOString())">'`.
 * @typeParam Why - What JSON cannot carry, and what to declare instead.
 */
export interface NotJson<Why extends string> {
  readonly [notJson]: Why;
}

/**
 * `T` when every value of `T` survives a JSON round trip unchanged — what a payload or a result may be —
 * else `T` with each place that does not replaced by a {@link NotJson} naming the problem, so that
 * `T extends JsonCompatible<T>` compiles only for JSON shapes. Refused: a `Date` (it arrives as a
 * string), a function or an object with methods (a `Map`, a class instance), `undefined` (in an array,
 * or as the declared type of a property: JSON leaves such a property out, so declare it optional
 * instead), a bigint and a symbol. Interfaces are checked as their type aliases are; `unknown` and `any`
 * pass, as they declare nothing (the store still refuses what is not JSON, with a 400).
 */
export type JsonCompatible<T> = [T] extends [JsonValue]
  ? T
  : unknown extends T
    ? T
    : T extends null | boolean | number | string
      ? T
      : T extends (...args: never) => unknown
        ? NotJson<'a function'>
        : T extends Date
          ? NotJson<'a Date: declare an ISO string (toISOString())'>
          : T extends object
            ? {
                // An optional property may be left out, but one that may hold undefined must say so by
                // being optional (JSON drops it: the record would lack the key its type promises).
                [Key in keyof T]: Key extends symbol
                  ? NotJson<'a symbol key'>
                  : unknown extends T[Key]
                    ? T[Key]
                    : undefined extends T[Key]
                      ? object extends Pick<T, Key>
                        ? JsonCompatible<Exclude<T[Key], undefined>>
                        : NotJson<'undefined: make the property optional instead'>
                      : JsonCompatible<T[Key]>;
              }
            : NotJson<T extends undefined ? 'undefined' : T extends bigint ? 'a bigint' : 'a symbol'>;
