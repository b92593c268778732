import { BadRequestError } from '../errors/index.js';
import type { ExternalTask } from '../model/index.js';
import type { ChangeFeed, ChangeFeedResync, ChangePosition } from '../repository/index.js';
import {
  describeValue,
  limits,
  requireCallbacks,
  requireInteger,
  requireNumber,
  requireObject,
  requireString,
} from '../validation/index.js';
import type { DelaySchedule } from '../clock/index.js';

/**
 * One outcome handed to {@link ExternalTaskApi.consumeOutcomes}.
 * @typeParam Task - The record's type: the union of the topics' records of a typed api. @default ExternalTask
 */
export interface ExternalTaskOutcome<Task extends ExternalTask<unknown, unknown> = ExternalTask> {
  /** The final record: `finished`, `failed` or `cancelled`. */
  readonly task: Task;
  /** The outcome's position in the store's change feed: store it once the outcome is handled. */
  readonly position: ChangePosition;
}

/**
 * Where {@link ExternalTaskApi.consumeOutcomes} starts:
 * - a position (a number) — after that position: the last outcome's position the engine stored, or the
 *   starting position it stored on its first start, before it created anything
 *   (`api.engine.currentPosition()`);
 * - `'oldest'` — from the oldest change the store still retains;
 * - `'now'` — outcomes from now on only: whatever happens while the engine is down is never handed over,
 *   so only for a consumer that does not need every outcome.
 */
export type OutcomesStart = ChangePosition | 'oldest' | 'now';

/**
 * A failure told to `onError`: which attempt at the outcome failed, and what comes next.
 */
export interface OutcomeFailure {
  /**
   * How many times `onOutcome` failed with this outcome so far (1 at its first failure); 0 for a failure
   * that is not `onOutcome`'s (a gap in the feed, a failing `onResync`).
   */
  readonly attempt: number;
  /**
   * In how many ms `onOutcome` is called again with the same outcome (nothing after it is handed over
   * meanwhile); `undefined`: the consumption stopped.
   */
  readonly retryIn: number | undefined;
}

/**
 * How a failing `onOutcome` is retried: after `initialDelay` ms, each further wait `factor` times the one
 * before, at most `maxDelay`, by the api's clock; the same outcome again and again, the ones after it
 * waiting (their order is kept).
 */
export interface OutcomeRetryOptions {
  /** The wait after the first failure, in ms (0 to 2^31−1). @default 1000 */
  readonly initialDelay?: number | undefined;
  /** The longest wait, in ms (at least `initialDelay`). @default 60,000, or `initialDelay` if longer */
  readonly maxDelay?: number | undefined;
  /** How much longer each wait is than the one before (1 to 1,000,000). @default 2 */
  readonly factor?: number | undefined;
  /**
   * How many times `onOutcome` is called with one outcome at most (1: never retried); after the last
   * failure the consumption stops, as a failure did before retries existed (see `onError`).
   * @default Infinity (retried until it succeeds or the consumption is closed)
   */
  readonly maxAttempts?: number | undefined;
}

/**
 * What both forms of {@link ExternalTaskApi.consumeOutcomes} take: the callbacks, and the retries.
 * @typeParam Task - The records handed over: the union of the topics' records of a typed api. @default ExternalTask
 */
export interface OutcomeHandlingOptions<Task extends ExternalTask<unknown, unknown> = ExternalTask> {
  /**
   * Handles one outcome; a returned promise is awaited before the next outcome is handed over. A throw or
   * rejection is told to `onError` and the same outcome is handed over again after a wait (see `retry`).
   */
  onOutcome(outcome: ExternalTaskOutcome<Task>): void | Promise<void>;
  /**
   * The feed fell behind the store's retention and outcomes may be missing (see {@link ChangeFeedResync});
   * delivery goes on after the gap. Without it, such a gap stops the consumption.
   */
  readonly onResync?: ((resync: ChangeFeedResync) => void | Promise<void>) | undefined;
  /**
   * Told of each failure: `onOutcome` threw or rejected for `outcome` (which was not handled, so the
   * position stored before it is still right), and whether it is retried (`failure.retryIn`) or the
   * consumption stopped (`retryIn` undefined: `retry.maxAttempts` spent); or the consumption stopped
   * without an outcome: the feed fell behind without `onResync` (a {@link ChangeFeedRetentionError}) or
   * `onResync` failed. Nothing is skipped: after a stop, consume again to resume from the stored position.
   * A throw from it is logged. @default logged: a retried failure as a warning, a stop as an error
   */
  readonly onError?:
    | ((error: unknown, outcome: ExternalTaskOutcome<Task> | undefined, failure: OutcomeFailure) => void)
    | undefined;
  /** How a failing `onOutcome` is retried (see {@link OutcomeRetryOptions}). @default every field's default */
  readonly retry?: OutcomeRetryOptions | undefined;
}

/**
 * `consumeOutcomes` from a position the engine keeps itself.
 * @typeParam Task - The records handed over (see {@link OutcomeHandlingOptions}). @default ExternalTask
 */
export interface ConsumeOutcomesAfterOptions<
  Task extends ExternalTask<unknown, unknown> = ExternalTask,
> extends OutcomeHandlingOptions<Task> {
  /**
   * Where to start (see {@link OutcomesStart}); required, so that a first start never silently means
   * "from now on". A position is a number: a PostgreSQL `bigint` column reads back as a string, so
   * convert it (`Number(row.position)`) before passing it.
   */
  readonly after: OutcomesStart;
  /** Not with `after`: a named consumer's position is the store's. */
  readonly consumer?: undefined;
}

/**
 * `consumeOutcomes` as a named consumer, whose position the store keeps: its replicas (the consumptions
 * with the same name, in this process or others on the same store) take turns, one holding the name's
 * lease and consuming, the others waiting to take over.
 * @typeParam Task - The records handed over (see {@link OutcomeHandlingOptions}). @default ExternalTask
 */
export interface NamedConsumeOutcomesOptions<
  Task extends ExternalTask<unknown, unknown> = ExternalTask,
> extends OutcomeHandlingOptions<Task> {
  /**
   * The consumer's name (1 to 255 characters). Its first start ever begins at the oldest change the store
   * retains — never at "now" — so that no outcome is lost before a position was stored; later starts
   * begin after the position stored last.
   */
  readonly consumer: string;
  /** Not with `consumer`: the store keeps a named consumer's position. */
  readonly after?: undefined;
  /**
   * How long the lease holds without a renewal, in ms by the store's clock (1 to 2^31−1): how long the
   * other replicas wait before one takes over from a holder that died. The holder renews it every third
   * of it; a waiting replica asks for it as often. @default 30,000
   */
  readonly leaseDuration?: number | undefined;
  /**
   * At most how long after an outcome (or another change) was handled its position is stored, in ms
   * (0 to 2^31−1): the position goes to the store with the next write, which also renews the lease. What
   * a holder handled but had not stored when it died is handed to the next holder again. @default 1000
   */
  readonly commitInterval?: number | undefined;
}

/**
 * Options of {@link ExternalTaskApi.consumeOutcomes}: one of its two forms.
 * @typeParam Task - The records handed over (see {@link OutcomeHandlingOptions}). @default ExternalTask
 */
export type ConsumeOutcomesOptions<Task extends ExternalTask<unknown, unknown> = ExternalTask> =
  ConsumeOutcomesAfterOptions<Task> | NamedConsumeOutcomesOptions<Task>;

/**
 * A named consumer's consumption (see {@link NamedConsumeOutcomesOptions}). `position` is the position of
 * the last change it handled, or the one stored when it took the lease (0 before it first held it).
 */
export interface NamedOutcomeConsumer extends ChangeFeed {
  /** The name. */
  readonly consumer: string;
  /** Whether it holds the name's lease now: the one replica that receives outcomes. */
  readonly holdsLease: boolean;
  /**
   * Stops: no outcome is handed over any more; resolves once the `onOutcome` under way has ended, the
   * position of what was handled is stored and the lease released, so another replica may take over at
   * once. Safe to call twice; from inside its own `onOutcome` it resolves at once, and the close goes on
   * once that `onOutcome` has ended.
   */
  close(): Promise<void>;
}

/** The handling options after their checks, with defaults. */
export interface ResolvedHandling {
  readonly onOutcome: OutcomeHandlingOptions['onOutcome'];
  readonly onResync: OutcomeHandlingOptions['onResync'];
  readonly onError: OutcomeHandlingOptions['onError'];
  readonly schedule: DelaySchedule;
  readonly maxAttempts: number;
}

/** A named consumer's options after their checks, with defaults. */
export interface ResolvedNamedConsumer {
  readonly consumer: string;
  readonly leaseDuration: number;
  readonly commitInterval: number;
}

/** What `consumeOutcomes` was asked for, checked: its handling, and where it starts or whose name it is. */
export type ResolvedConsumeOptions =
  | { readonly handling: ResolvedHandling; readonly after: OutcomesStart }
  | { readonly handling: ResolvedHandling; readonly named: ResolvedNamedConsumer };

/**
 * Checks the options of `consumeOutcomes` and fills in the defaults.
 * @throws `BadRequestError` naming the option
 */
export function resolveConsumeOptions(options: ConsumeOutcomesOptions): ResolvedConsumeOptions {
  const fields = requireObject('options', options);
  let start: { readonly after: OutcomesStart } | { readonly named: ResolvedNamedConsumer };
  if (fields.consumer !== undefined) {
    const consumer = requireString('consumer', fields.consumer);
    if (fields.after !== undefined) {
      throw new BadRequestError(
        'after',
        'after is not given with consumer: the store keeps a named consumer’s position.',
      );
    }
    start = { named: resolveNamed(consumer, fields) };
  } else {
    start = { after: requireStart(fields.after) };
  }
  requireCallbacks(fields, ['onOutcome'], ['onResync', 'onError']);
  const handling = options as OutcomeHandlingOptions;
  return {
    handling: {
      // Called as the options' method, as the consumer wrote it.
      onOutcome: (outcome) => handling.onOutcome(outcome),
      onResync: handling.onResync,
      onError: handling.onError,
      ...resolveRetry(fields.retry),
    },
    ...start,
  };
}

/** Checks `after`: a start must be given, a position as a number (a string is refused, not parsed). */
function requireStart(after: unknown): OutcomesStart {
  if (after === 'oldest' || after === 'now') return after;
  if (typeof after === 'number') return requireInteger('after', after, 0, Number.MAX_SAFE_INTEGER);
  throw new BadRequestError(
    'after',
    `after must say where to start: a stored position (a number), 'oldest' (the oldest retained change) ` +
      `or 'now' (outcomes from now on) — or give consumer instead, got ${describeValue(after)}.`,
  );
}

function resolveNamed(consumer: string, fields: Record<string, unknown>): ResolvedNamedConsumer {
  return {
    consumer,
    leaseDuration: requireInteger('leaseDuration', fields.leaseDuration ?? 30_000, 1, limits.maxDuration),
    commitInterval: requireInteger('commitInterval', fields.commitInterval ?? 1000, 0, limits.maxDuration),
  };
}

/** The retry schedule: `maxDelay` at least `initialDelay`; `maxAttempts` a count from 1, or Infinity. */
function resolveRetry(retry: unknown): Pick<ResolvedHandling, 'schedule' | 'maxAttempts'> {
  const fields = retry === undefined ? {} : requireObject('retry', retry);
  const initialDelay = requireInteger(
    'retry.initialDelay',
    fields.initialDelay ?? 1000,
    0,
    limits.maxDuration,
  );
  const maxDelay = fields.maxDelay ?? Math.max(initialDelay, 60_000);
  const maxAttempts = fields.maxAttempts ?? Infinity;
  return {
    schedule: {
      initialDelay,
      maxDelay: requireInteger('retry.maxDelay', maxDelay, initialDelay, limits.maxDuration),
      factor: requireNumber('retry.factor', fields.factor ?? 2, 1, 1e6),
      jitter: 0,
    },
    maxAttempts:
      maxAttempts === Infinity
        ? Infinity
        : requireInteger('retry.maxAttempts', maxAttempts, 1, Number.MAX_SAFE_INTEGER),
  };
}
