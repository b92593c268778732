import { limits } from '../../lib/index.js';
import type { HostileName } from './hostile-values.js';

/**
 * The kinds of parameter, each with the hostile values its documentation (TSDoc, docs/guide.md, `limits`)
 * calls valid, and its value just beyond its size limit. Written from the documentation, not from the
 * checks: every other value must be refused.
 */
export interface ParameterKind {
  /** The hostile values the documentation accepts for this kind of parameter. */
  readonly valid: readonly HostileName[];
  /** The parameter's value just past its documented limit. */
  readonly pastLimit?: () => unknown;
  /**
   * Values the documentation leaves open, either answer being right: `null` for an option whose type says
   * `| undefined` and whose default is taken with `??` (the worker's options say so; the others do not).
   */
  readonly tolerated?: readonly HostileName[];
}

const objectLike: readonly HostileName[] = [
  'empty object',
  'cyclic object',
  'Date',
  'Map',
  'Set',
  'typed array',
  '__proto__ key',
  'constructor key',
  'exploding DAG',
];

/** Any JSON value (within 1 MiB and 100 levels): what a payload or a result may be. */
const jsonValues: readonly HostileName[] = [
  'null',
  'empty string',
  'whitespace',
  '10,000 characters',
  'NUL',
  'lone surrogate',
  '-1',
  '0',
  '1.5',
  '2^53',
  'boolean',
  'empty array',
  'empty object',
  '__proto__ key',
  'constructor key',
];

const beyondJsonLimit = (): unknown => ({ text: 'j'.repeat(limits.maxJsonBytes) });

export const kinds = {
  /** Ids, worker ids, topic names, error codes: 1 to 255 characters, no NUL, no unpaired surrogate. */
  id: { valid: ['whitespace'] },
  /** An optional id: also `undefined`. */
  optionalId: { valid: ['undefined', 'whitespace'] },
  /** A required message: 1 to 10,000 characters. */
  message: {
    valid: ['whitespace', '10,000 characters'],
    pastLimit: () => 'm'.repeat(limits.maxMessageLength + 1),
  },
  /** An optional free text: `undefined`, or 0 to 10,000 characters. */
  optionalText: {
    valid: ['undefined', 'empty string', 'whitespace', '10,000 characters'],
    pastLimit: () => 'm'.repeat(limits.maxMessageLength + 1),
  },
  /** A payload or result: `undefined` (none) or any JSON value within the limits. */
  json: { valid: ['undefined', ...jsonValues], pastLimit: beyondJsonLimit },
  /** A failure's details: as `json`, but no NUL and no unpaired surrogate in any string. */
  storableJson: {
    valid: ['undefined', ...jsonValues.filter((name) => name !== 'NUL' && name !== 'lone surrogate')],
    pastLimit: beyondJsonLimit,
  },
  /** An identity stored with a task: `undefined` or a JSON object. */
  taskIdentity: {
    valid: ['undefined', 'empty object', '__proto__ key', 'constructor key'],
    pastLimit: beyondJsonLimit,
  },
  /** A lock duration: an integer from 1 to 2^31-1 ms. */
  duration: { valid: [], pastLimit: () => limits.maxDuration + 1 },
  /** `maxTasks`: 1 to 1,000. */
  maxTasks: { valid: [], pastLimit: () => limits.maxTasks + 1 },
  /** The positional `longPollingTimeout`: 0 to 30 minutes. */
  longPoll: { valid: ['0'], pastLimit: () => limits.maxLongPollingTimeout + 1 },
  /** The options form's `longPollingTimeout`: optional. */
  optionalLongPoll: { valid: ['undefined', '0'], pastLimit: () => limits.maxLongPollingTimeout + 1 },
  /** A retry budget: 0 to 1,000,000. */
  retries: { valid: ['0'], pastLimit: () => limits.maxRetries + 1 },
  optionalRetries: { valid: ['undefined', '0'], pastLimit: () => limits.maxRetries + 1 },
  /** A retry delay: `undefined` or 0 to 2^31-1 ms. */
  optionalDelay: { valid: ['undefined', '0'], pastLimit: () => limits.maxDuration + 1 },
  /** A priority: any safe integer. */
  priority: { valid: ['-1', '0'], pastLimit: () => Number.MAX_SAFE_INTEGER + 2 },
  optionalPriority: { valid: ['undefined', '-1', '0'], pastLimit: () => Number.MAX_SAFE_INTEGER + 2 },
  /** A query's page size: `undefined` or 1 to 1,000. */
  optionalLimit: { valid: ['undefined'], pastLimit: () => limits.maxTasks + 1 },
  /** A query's offset: `undefined` or a safe integer from 0. */
  optionalOffset: { valid: ['undefined', '0'], pastLimit: () => Number.MAX_SAFE_INTEGER + 2 },
  /** A switch: `undefined`, `true` or `false`. */
  optionalBoolean: { valid: ['undefined', 'boolean'] },
  /** `state` or `topic` of a query: `undefined`, one value or a list (an empty list matches nothing). */
  oneOrManyIds: { valid: ['undefined', 'whitespace', 'empty array'], pastLimit: () => hundredAndOne() },
  oneOrManyStates: { valid: ['undefined', 'empty array'], pastLimit: () => hundredAndOne() },
  /** A list of topic names: an array of ids (empty is a list of none). */
  optionalTopicList: { valid: ['undefined', 'empty array'], pastLimit: () => ['t'.repeat(256)] },
  /** An option bag that must carry required fields: refused unless it does (no hostile value does). */
  requiredBag: { valid: [] },
  /** A list of new tasks: an array (empty: none stored); no hostile value is a task. */
  taskList: { valid: ['empty array'], pastLimit: () => new Array<unknown>(limits.maxTasks + 1).fill({}) },
  /** A required filter whose fields are all optional: any object (whose fields are then read). */
  filter: { valid: objectLike },
  /** What `countByTopic` takes: nothing, a list of topic names (empty: none), or a filter object. */
  countFilter: { valid: ['undefined', 'empty array', ...objectLike] },
  /** An option bag whose fields are all optional: absent, or any object (whose fields are then read). */
  optionalBag: { valid: ['undefined', ...objectLike] },
  /** An option bag read with `??`: `null` too stands for "not given". */
  nullableBag: { valid: ['undefined', 'null', ...objectLike] },
  /** An `AbortSignal`, optional. */
  optionalSignal: { valid: ['undefined'] },
  /** A function, required. */
  callback: { valid: ['function'] },
  optionalCallback: { valid: ['undefined', 'function'] },
  /** A change-feed position: `undefined` (the end) or a position the store handed out (0 is the start). */
  optionalPosition: { valid: ['undefined', '0'] },
  /** Where outcomes start: a position the store handed out (0 is the start), `'oldest'` or `'now'`. */
  outcomesStart: { valid: ['0'] },
  /** An object with the methods of an interface (a clock, a logger, a policy), with a default. */
  optionalImplementation: { valid: ['undefined', 'null'] },
  /** A required implementation of an interface (a repository, a service): no hostile value is one. */
  implementation: { valid: [] },
  /** A constructor option with a default (`??`): `undefined`, and `null` as the worker's options document. */
  defaultedImplementation: { valid: ['undefined'], tolerated: ['null'] },
  defaultedCallback: { valid: ['undefined', 'function'], tolerated: ['null'] },
  /** A count or duration option from 1 (a timeout, a capacity, a retention of changes). */
  defaultedPositive: { valid: ['undefined'], tolerated: ['null'], pastLimit: () => 2 ** 53 + 2 },
  /** A duration option from 0 (a delay, a grace period, a poll interval). */
  defaultedFromZero: {
    valid: ['undefined', '0'],
    tolerated: ['null'],
    pastLimit: () => limits.maxDuration + 1,
  },
  defaultedLongPoll: {
    valid: ['undefined', '0'],
    tolerated: ['null'],
    pastLimit: () => limits.maxLongPollingTimeout + 1,
  },
  defaultedMaxTasks: { valid: ['undefined'], tolerated: ['null'], pastLimit: () => limits.maxTasks + 1 },
  defaultedRetries: {
    valid: ['undefined', '0'],
    tolerated: ['null'],
    pastLimit: () => limits.maxRetries + 1,
  },
  /** A growth factor, 1 to 1,000,000. */
  defaultedFactor: { valid: ['undefined', '1.5'], tolerated: ['null'], pastLimit: () => 1e6 + 1 },
  /** A count of attempts from 1, or `Infinity` (no limit). */
  defaultedAttempts: { valid: ['undefined', 'Infinity'], tolerated: ['null'] },
  /** A jitter, 0 to 1. */
  defaultedFraction: { valid: ['undefined', '0'], tolerated: ['null'], pastLimit: () => 1.0001 },
  /** A `maxDelay`: at least its initial delay (1 s by default), so 0 is too short. */
  defaultedMaxDelay: { valid: ['undefined'], tolerated: ['null'], pastLimit: () => limits.maxDuration + 1 },
  defaultedId: { valid: ['undefined', 'whitespace'], tolerated: ['null'] },
  /** A store's `finalTaskRetention`: 0 to 1,000 years, or `Infinity`. */
  retention: { valid: ['undefined', '0', 'Infinity'], tolerated: ['null'], pastLimit: () => 1e15 * 32 },
  /** `retry.strategy`: 'fixed' or 'exponential'. */
  strategy: { valid: ['undefined'], tolerated: ['null'] },
  /** The worker's `topic`: a topic name or a list of 1 to 100 distinct ones. */
  topicOption: { valid: ['whitespace'], pastLimit: () => hundredAndOne() },
  /** An identity option: `undefined` or an object. */
  optionalObject: { valid: ['undefined', ...objectLike], tolerated: ['null'] },
  /**
   * A bearer token option: `undefined` or a non-empty string; no length and no alphabet are documented
   * (a header cannot carry NUL, which the first request would then tell).
   */
  optionalToken: {
    valid: ['undefined', 'whitespace', '10,000 characters', 'past the limit'],
    tolerated: ['null', '10 MB string', 'NUL', 'lone surrogate'],
  },
  /** A base path like `/api/external_task/v1`. */
  defaultedBasePath: { valid: ['undefined'], tolerated: ['null'] },
  /** An absolute http(s) URL: no hostile value is one. */
  baseUrl: { valid: [] },
  /** An identity, judged by the default access policy: none of the hostile values carries a token. */
  callerIdentity: { valid: [] },
} satisfies Record<string, ParameterKind>;

/** A kind's name. */
export type KindName = keyof typeof kinds;

function hundredAndOne(): string[] {
  return Array.from({ length: limits.maxTopics + 1 }, (_, index) => `t${index}`);
}
