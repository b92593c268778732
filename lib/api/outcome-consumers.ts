import { BadRequestError } from '../errors/index.js';
import type { Logger } from '../logging/index.js';
import type { ExternalTask } from '../model/index.js';
import type {
  ChangeFeed,
  ChangeFeedResync,
  ChangePosition,
  ExternalTaskChange,
  ExternalTaskRepository,
} from '../repository/index.js';
import { CallbackRuns } from '../repository/callback-runs.js';
import { requireObject } from '../validation/index.js';

/** One outcome handed to {@link ExternalTaskApi.consumeOutcomes}. */
export interface ExternalTaskOutcome {
  /** The final record: `finished`, `failed` or `cancelled`. */
  readonly task: ExternalTask;
  /** The outcome's position in the store's change feed: store it once the outcome is handled. */
  readonly position: ChangePosition;
}

/** Options of {@link ExternalTaskApi.consumeOutcomes}. */
export interface ConsumeOutcomesOptions {
  /**
   * Resume after this position: the position of the last outcome the engine handled, as it stored it.
   * @default the current end (outcomes from now on)
   */
  readonly after?: ChangePosition | undefined;
  /** Handles one outcome; a returned promise is awaited before the next outcome is handed over. */
  onOutcome(outcome: ExternalTaskOutcome): void | Promise<void>;
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
  readonly onError?: ((error: unknown, outcome: ExternalTaskOutcome | undefined) => void) | undefined;
}

/** @throws BadRequestError naming `argument` unless `value` is a function: called later, it cannot fail then. */
function requireCallback(argument: string, value: unknown): void {
  if (typeof value !== 'function') throw new BadRequestError(argument, `${argument} must be a function.`);
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
    const { onResync, onError } = options;
    requireCallback('onOutcome', (options as { onOutcome?: unknown }).onOutcome);
    if (onResync !== undefined) requireCallback('onResync', onResync);
    if (onError !== undefined) requireCallback('onError', onError);
    let feed: ChangeFeed | undefined = undefined;
    const forget = (): void => void (feed && this.feeds.delete(feed));
    const opened = await this.repository.subscribe({
      after: options.after,
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
    });
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
