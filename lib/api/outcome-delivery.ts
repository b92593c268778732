import type { Clock } from '../clock/index.js';
import { ChangeFeedRetentionError } from '../errors/index.js';
import type { Logger } from '../logging/index.js';
import type {
  ChangeFeed,
  ChangeFeedResync,
  ChangePosition,
  ChangeSubscriber,
  ExternalTaskChange,
  ExternalTaskRepository,
} from '../repository/index.js';
import { isThenable } from '../repository/callback-runs.js';
import { abortableSleep } from '../clock/index.js';
import { delayAfter } from '../clock/index.js';
import type {
  ExternalTaskOutcome,
  OutcomeFailure,
  OutcomesStart,
  ResolvedHandling,
} from './consume-outcomes-options.js';

/** Whether `change` gave its task its outcome. */
export function isOutcome(change: ExternalTaskChange): boolean {
  return change.type === 'finished' || change.type === 'failed' || change.type === 'cancelled';
}

/**
 * Thrown into the feed to halt it before the outcome at hand, with nothing more to report: the
 * consumption is stopping, or the failure that stops it was told already.
 */
class DeliveryStopped extends Error {}

/** What a delivery tells the consumption it serves. */
export interface DeliveryHooks {
  /** Every change up to `position` was handled (an outcome by `onOutcome`, a gap by `onResync`). */
  handled?(position: ChangePosition): void;
  /** The delivery stopped by itself (attempts spent, a gap without `onResync`, `onResync` failed). */
  halted(): void;
}

/**
 * Hands one consumption's outcomes to `onOutcome`, in order, one at a time: a failing one is told to
 * `onError` and handed over again after a back-off on the api's clock (`retry`), the changes after it
 * waiting, until it succeeds, its attempts are spent (the feed halts before it), or {@link stop}.
 */
export class OutcomeDelivery {
  private readonly stopping = new AbortController();

  constructor(
    private readonly handling: ResolvedHandling,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Runs one of the consumer's callbacks as a run of its consumption (see `CallbackRuns`). */
    private readonly run: <T>(callback: () => T) => T,
    private readonly hooks: DeliveryHooks,
  ) {}

  /**
   * Opens the feed: after a position, after the oldest retained change, or from now on. A position older
   * than the store retains rejects with {@link ChangeFeedRetentionError} — unless `resyncBehind` and the
   * consumer has `onResync`: then it is told of the gap and the feed starts after it.
   */
  async open(
    repository: ExternalTaskRepository,
    start: OutcomesStart,
    resyncBehind: boolean,
  ): Promise<ChangeFeed> {
    if (start === 'now') return repository.subscribe(this.subscriber(undefined));
    let after = start === 'oldest' ? 0 : start;
    for (;;) {
      try {
        return await repository.subscribe(this.subscriber(after));
      } catch (error) {
        if (!(error instanceof ChangeFeedRetentionError)) throw error;
        // From the oldest, a store that let changes go is asked again after the oldest it can resume from.
        if (start !== 'oldest') {
          if (!resyncBehind || !this.handling.onResync) throw error;
          await this.resync({ lastDelivered: after, resumedAfter: error.oldestResumable });
        }
        after = error.oldestResumable;
      }
    }
  }

  /** Ends a back-off wait at once and hands nothing more over; the feed halts before the outcome at hand. */
  stop(): void {
    this.stopping.abort();
  }

  /** Tells `onError` (or the log) of a failure. */
  fail(error: unknown, outcome: ExternalTaskOutcome | undefined, failure: OutcomeFailure): void {
    const { onError } = this.handling;
    if (!onError) {
      if (failure.retryIn === undefined)
        this.logger.error('consumeOutcomes stopped; consume again to resume from the stored position.', {
          error,
          outcome,
        });
      else
        this.logger.warn(
          `onOutcome failed; the same outcome is handed over again in ${failure.retryIn} ms.`,
          {
            error,
            outcome,
            attempt: failure.attempt,
          },
        );
      return;
    }
    try {
      onError(error, outcome, failure);
    } catch (thrown) {
      this.logger.error('onError of consumeOutcomes threw.', { error: thrown });
    }
  }

  private subscriber(after: ChangePosition | undefined): ChangeSubscriber {
    return {
      ...(after !== undefined && { after }),
      // Synchronous for the other changes, so that a store delivering synchronously goes on at once.
      onChange: (change) =>
        isOutcome(change) ? this.deliver(change) : this.hooks.handled?.(change.position),
      ...(this.handling.onResync && { onResync: (resync: ChangeFeedResync) => this.resync(resync) }),
      onHalt: (error, change) => {
        if (this.stopping.signal.aborted) return;
        if (!(error instanceof DeliveryStopped)) {
          this.fail(error, change && { task: change.task, position: change.position }, {
            attempt: 0,
            retryIn: undefined,
          });
        }
        this.hooks.halted();
      },
    };
  }

  private async resync(resync: ChangeFeedResync): Promise<void> {
    await this.run(() => this.handling.onResync?.(resync));
    this.hooks.handled?.(resync.resumedAfter);
  }

  /** Synchronous while `onOutcome` is (a store that delivers synchronously goes on at once). */
  private deliver(change: ExternalTaskChange): void | Promise<void> {
    const outcome: ExternalTaskOutcome = { task: change.task, position: change.position };
    const handled = (): void => this.hooks.handled?.(change.position);
    let answer: unknown;
    try {
      answer = this.run(() => this.handling.onOutcome(outcome));
    } catch (error) {
      return this.retry(outcome, error).then(handled);
    }
    if (!isThenable(answer)) return handled();
    return Promise.resolve(answer).then(handled, (error: unknown) =>
      this.retry(outcome, error).then(handled),
    );
  }

  /** Tells of `error` and calls `onOutcome` again after each wait, until it succeeds or must stop. */
  private async retry(outcome: ExternalTaskOutcome, error: unknown): Promise<void> {
    const { schedule, maxAttempts, onOutcome } = this.handling;
    for (let attempt = 1; ; attempt++) {
      const retryIn = attempt < maxAttempts ? delayAfter(schedule, attempt - 1, 0) : undefined;
      this.fail(error, outcome, { attempt, retryIn });
      if (retryIn === undefined) throw new DeliveryStopped();
      await abortableSleep(this.clock, retryIn, this.stopping.signal);
      if (this.stopping.signal.aborted) throw new DeliveryStopped();
      try {
        await this.run(() => onOutcome(outcome));
        return;
      } catch (next) {
        error = next;
      }
    }
  }
}
