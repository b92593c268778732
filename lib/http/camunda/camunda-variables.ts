import { BadRequestError } from '../../errors/index.js';
import type { JsonValue } from '../../model/index.js';
import { describeValue } from '../../validation/index.js';

/** A typed variable of Camunda's REST API, as a fetch answers it. */
export interface CamundaVariable {
  readonly value: JsonValue;
  readonly type: 'String' | 'Boolean' | 'Integer' | 'Long' | 'Double' | 'Json' | 'Null';
  readonly valueInfo: Readonly<Record<string, never>>;
}

/** The name of the one variable that carries a payload which is not a JSON object. */
export const payloadVariable = 'payload';

const int32 = 2 ** 31;
const int64 = 2 ** 63;

/** Whether `value` lies in the signed range of `bound` (−bound to bound − 1). */
const within = (value: number, bound: number): boolean => value >= -bound && value < bound;

/**
 * A task's payload as Camunda variables: each top-level property of an object payload is a variable
 * whose type follows its value; a `null` payload has none; any other payload (an array, a string, …) is
 * the one variable `payload`. With `names`, only the variables of those names.
 */
export function payloadVariables(
  payload: JsonValue,
  names?: readonly string[],
): Record<string, CamundaVariable> {
  const values: Readonly<Record<string, JsonValue>> =
    payload === null ? {} : isJsonObject(payload) ? payload : { [payloadVariable]: payload };
  // A set: a wide payload filtered by a long list would otherwise cost their product.
  const wanted = names === undefined ? undefined : new Set(names);
  return Object.fromEntries(
    Object.entries(values)
      .filter(([name]) => wanted === undefined || wanted.has(name))
      .map(([name, value]) => [name, typedValue(value)]),
  );
}

function isJsonObject(value: JsonValue): value is { readonly [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typedValue(value: JsonValue): CamundaVariable {
  const typed = (type: CamundaVariable['type'], wire: JsonValue): CamundaVariable => ({
    type,
    value: wire,
    valueInfo: {},
  });
  if (value === null) return typed('Null', null);
  switch (typeof value) {
    case 'string':
      return typed('String', value);
    case 'boolean':
      return typed('Boolean', value);
    case 'number':
      // Integer and Long are Java's 32- and 64-bit integers: a number neither holds is a Double.
      if (!Number.isInteger(value) || !within(value, int64)) return typed('Double', value);
      return typed(within(value, int32) ? 'Integer' : 'Long', value);
    default:
      // Objects and arrays: Camunda's Json variables carry their value as JSON text.
      return typed('Json', JSON.stringify(value));
  }
}

type Decode = (value: unknown, argument: string) => JsonValue;

const expect =
  (accepts: (value: unknown) => boolean, what: string): Decode =>
  (value, argument) => {
    if (!accepts(value)) {
      throw new BadRequestError(argument, `${argument} must be ${what} for its type.`);
    }
    return value as JsonValue;
  };

const asText = expect((value) => typeof value === 'string', 'a string');
const asInteger = expect(Number.isInteger, 'an integer');

/** How each supported type's value (lower case, as Camunda compares them) becomes a JSON value. */
const decoders: Readonly<Record<string, Decode>> = {
  string: asText,
  date: asText,
  boolean: expect((value) => typeof value === 'boolean', 'true or false'),
  short: asInteger,
  integer: asInteger,
  long: asInteger,
  double: expect((value) => typeof value === 'number', 'a number'),
  null: () => null,
  json: (value, argument) => {
    const text = asText(value, argument) as string;
    try {
      return JSON.parse(text) as JsonValue;
    } catch {
      throw new BadRequestError(argument, `${argument} must be JSON text for its type Json.`);
    }
  },
};

/**
 * The values of Camunda variables `{ name: { value, type?, valueInfo? } }` as one JSON object
 * `{ name: value }`: Json values parsed, Date values kept as their text, a `null` value `null` whatever
 * its type; a variable without a type is its value as it is. `undefined` and `null` are no variables.
 * @param argument - the body field, named in a 400 (e.g. `variables`, then `variables.amount.value`)
 * @throws BadRequestError naming the variable for anything else, or a type that is not supported
 */
export function variableValues(variables: unknown, argument: string): Record<string, JsonValue> {
  if (variables === undefined || variables === null) return {};
  if (typeof variables !== 'object' || Array.isArray(variables)) {
    throw new BadRequestError(argument, `${argument} must be an object of typed variables.`);
  }
  return Object.fromEntries(
    Object.entries(variables).map(([name, variable]) => [
      name,
      variableValue(variable, `${argument}.${name}`),
    ]),
  );
}

function variableValue(variable: unknown, argument: string): JsonValue {
  if (typeof variable !== 'object' || variable === null || Array.isArray(variable)) {
    throw new BadRequestError(argument, `${argument} must be a typed variable { value, type }.`);
  }
  const { value = null, type } = variable as { value?: unknown; type?: unknown };
  if (type === undefined || type === null) return value as JsonValue;
  const key = typeof type === 'string' ? type.toLowerCase() : '';
  const decode = Object.hasOwn(decoders, key) ? decoders[key] : undefined;
  if (decode === undefined) {
    throw new BadRequestError(
      `${argument}.type`,
      `${argument}.type ${describeValue(type)} is not supported: use String, Boolean, Short, Integer, ` +
        'Long, Double, Date, Json or Null.',
    );
  }
  return value === null ? null : decode(value, `${argument}.value`);
}
