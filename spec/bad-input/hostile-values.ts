import { limits } from '../../lib/index.js';

/** The names of the hostile values every parameter is tried with. */
export const hostileNames = [
  'undefined',
  'null',
  'empty string',
  'whitespace',
  '10,000 characters',
  '10 MB string',
  'NUL',
  'lone surrogate',
  '-1',
  '0',
  '1.5',
  'NaN',
  'Infinity',
  '-Infinity',
  '2^53',
  'boolean',
  'empty array',
  'empty object',
  'cyclic object',
  'BigInt',
  'function',
  'symbol',
  'Date',
  'Map',
  'Set',
  'typed array',
  '__proto__ key',
  'constructor key',
  'exploding DAG',
  'past the limit',
] as const;

/** One hostile value's name. */
export type HostileName = (typeof hostileNames)[number];

/** Made once: ten million characters, shared by every case (strings are immutable). */
const tenMegabytes = 'x'.repeat(10_000_000);

function cyclic(): object {
  const value: Record<string, unknown> = { name: 'loop' };
  value.self = value;
  return value;
}

/** 30 levels, each referring to the one below twice: 2^30 leaves once serialised, 31 objects in memory. */
function explodingDag(): object {
  let level: object = { leaf: 'x'.repeat(16) };
  for (let depth = 0; depth < 30; depth++) level = { left: level, right: level };
  return level;
}

/**
 * A fresh hostile value of each name. `pastLimit` is the parameter's own value just beyond its size limit
 * (see {@link limits}); the generic fallback is a string one character longer than the longest id.
 */
export function hostileValue(name: HostileName, pastLimit?: () => unknown): unknown {
  switch (name) {
    case 'undefined':
      return undefined;
    case 'null':
      return null;
    case 'empty string':
      return '';
    case 'whitespace':
      return ' \t\n ';
    case '10,000 characters':
      return 'y'.repeat(10_000);
    case '10 MB string':
      return tenMegabytes;
    case 'NUL':
      return 'a\u0000b';
    case 'lone surrogate':
      return 'a\ud800b';
    case '-1':
      return -1;
    case '0':
      return 0;
    case '1.5':
      return 1.5;
    case 'NaN':
      return NaN;
    case 'Infinity':
      return Infinity;
    case '-Infinity':
      return -Infinity;
    case '2^53':
      return 2 ** 53;
    case 'boolean':
      return true;
    case 'empty array':
      return [];
    case 'empty object':
      return {};
    case 'cyclic object':
      return cyclic();
    case 'BigInt':
      return 10n ** 30n;
    case 'function':
      return () => 'called';
    case 'symbol':
      return Symbol('hostile');
    case 'Date':
      return new Date(0);
    case 'Map':
      return new Map([['topicName', 'invoice']]);
    case 'Set':
      return new Set(['invoice']);
    case 'typed array':
      return new Uint8Array([1, 2, 3]);
    case '__proto__ key':
      // Parsed, as it arrives from the wire: an own key named __proto__, not a prototype.
      return JSON.parse('{"__proto__":{"polluted":true,"token":"t","topicName":"invoice"}}') as unknown;
    case 'constructor key':
      return { constructor: { prototype: { polluted: true } } };
    case 'exploding DAG':
      return explodingDag();
    case 'past the limit':
      return pastLimit ? pastLimit() : 'z'.repeat(limits.maxIdLength + 1);
  }
}
