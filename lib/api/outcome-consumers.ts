import { BadRequestError, ChangeFeedRetentionError } from '../errors/index.js';
import type { Logger } from '../logging/index.js';
import type { ExternalTask } from '../model/index.js';
import type {
  ChangeFeed,
  ChangeFeedResync,
  ChangePosition,
  ChangeSubscriber,
  ExternalTaskChange,
  ExternalTaskRepository,
} from '../repository/index.js';
import { CallbackRuns } from '../repository/callback-runs.js';
import { describeValue, requireCallbacks, requireObject } from '../validation/index.js';

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
 * Options of {@link ExternalTaskApi.consumeOutcomes}.
 * @typeParam Task - The records handed over: the union of the topics' records of a typed api. @default ExternalTask
 */
export interface ConsumeOutcomesOptions<Task extends ExternalTask<unknown, unknown> = ExternalTask> {
  /**
   * Where to start (see {@link OutcomesStart}); required, so that a first start never silently means
   * "from now on". A position is a number: a PostgreSQL `bigint` column reads back as a string, so
   * convert it (`Number(row.position)`) before passing it.
   */
  readonly after: OutcomesStart;
  /** Handles one outcome; a returned promise is awaited before the next outcome is handed over. */
  onOutcome(outcome: ExternalTaskOutcome<Task>): void | Promise<void>;
  /**
   * The feed fell behind the store's retention and outcomes may be missing (see {@link ChangeFeedResync});
   * delivery goes on after the gap. Without it, such a gap stops the consumption like a failure does.
   */
  readonly onResync?: ((resync: ChangeFeedResync) => void | Promise<void>) | undefined;
  /**
   * The consumption stopped: `onOutcome` threw or rejected for `outcome` (which was not handled, so the
   * position stored before it is still right), or the feed fell behind without `onResync` (a
   * {@link ChangeFeedRetentionError}, no outcome). Nothing is skipped: consume again from the stored
   * position to retry. @default logged as an error
   */
  readonly onError?: ((error: unknown, outcome: ExternalTaskOutcome<Task> | undefined) => void) | undefined;
}

/** Checks `after`: a start must be given, a position as a number (a string is refused, not parsed). */
function requireStart(after: unknown): OutcomesStart {
  if (after === 'oldest' || after === 'now' || typeof after === 'number') return after;
  throw new BadRequestError(
    'after',
    `after must say where to start: a stored position (a number), 'oldest' (the oldest retained change) ` +
      `or 'now' (outcomes from now on), got ${describeValue(after)}.`,
  );
}

/** Whether `change` gave its task its outcome. */
export function isOutcome(change: ExternalTaskChange): boolean {
  return change.type === 'finished' || change.type === 'failed' || change.type === 'cancelled';
}

/**
 * The open consumptions of a facade's outcomes: each a change feed that hands the outcome changes to the
 * engine and halts at a failure, kept until it is closed, halted, or the facade closes them all.
 */
export class OutcomeConsumers {
  private readonly feeds = new Set<ChangeFeed>();
  /** The `onOutcome` (and `onResync`) callbacks running, so that a close from one can tell. */
  private readonly consuming = new CallbackRuns<OutcomeConsumers>();

  constructor(
    private readonly repository: ExternalTaskRepository,
    private readonly logger: Logger,
  ) {}

  /** Opens a consumption (see {@link ExternalTaskApi.consumeOutcomes}); answers its feed. */
  async open(options: ConsumeOutcomesOptions): Promise<ChangeFeed> {
    requireObject('options', options);
    const start = requireStart(options.after);
    requireCallbacks(options, ['onOutcome'], ['onResync', 'onError']);
    let feed: ChangeFeed | undefined = undefined;
    const forget = (): void => void (feed && this.feeds.delete(feed));
    const subscriber: ChangeSubscriber = {
      onChange: (change) =>
        isOutcome(change)
          ? this.consuming.run(this, () =>
              options.onOutcome({ task: change.task, position: change.position }),
            )
          : undefined,
      ...(options.onResync && {
        onResync: (resync) => this.consuming.run(this, () => options.onResync?.(resync)),
      }),
      onHalt: (error, change) => {
        forget();
        const outcome = change && { task: change.task, position: change.position };
        if (options.onError) options.onError(error, outcome);
        else
          this.logger.error('consumeOutcomes stopped; resume from the last stored position.', {
            error,
            outcome,
          });
      },
    };
    const opened =
      start === 'oldest'
        ? await this.subscribeFromOldest(subscriber)
        : await this.repository.subscribe(start === 'now' ? subscriber : { ...subscriber, after: start });
    feed = {
      get position() {
        return opened.position;
      },
      close: () => {
        forget();
        return opened.close();
      },
    };
    this.feeds.add(feed);
    return feed;
  }

  /**
   * Subscribes from the oldest retained change: after position 0, or, once the store has let changes go,
   * after the oldest position it can still resume from (asked again if its retention moved on meanwhile).
   */
  private async subscribeFromOldest(subscriber: ChangeSubscriber): Promise<ChangeFeed> {
    let after: ChangePosition = 0;
    for (;;) {
      try {
        return await this.repository.subscribe({ ...subscriber, after });
      } catch (error) {
        if (!(error instanceof ChangeFeedRetentionError)) throw error;
        after = error.oldestResumable;
      }
    }
  }

  /** Whether the caller runs inside a callback of one of these consumptions, while that callback runs. */
  get calledFromConsumer(): boolean {
    return this.consuming.owner() === this;
  }

  /** Closes every open consumption. */
  async closeAll(): Promise<void> {
    const feeds = [...this.feeds];
    this.feeds.clear();
    await Promise.all(feeds.map((feed) => feed.close()));
  }
}
