import { BadRequestError, ChangeFeedRetentionError } from '../errors/index.js';
import type { Logger } from '../logging/index.js';
import type { ChangeFeed, ChangePosition, ChangeSubscriber } from '../repository/index.js';
import { requireInteger } from '../validation/index.js';
import type { Driver } from './driver/driver.js';
import { FeedSubscription } from './feed-subscription.js';
import type { changeFeedStatements } from './sql/index.js';

type FeedStatements = ReturnType<typeof changeFeedStatements>;

/** Settings of {@link PostgresChangeFeed}. */
export interface ChangeFeedSettings {
  /** How many of the latest positions are kept. */
  readonly changeRetention: number;
  /** How often, in real ms, open subscriptions re-check without a notification. */
  readonly safetyRecheckMs: number;
}

/**
 * The change feed of a PostgreSQL store, in one process: the sequencer (which gives committed outbox
 * rows their positions, see `sql/change-feed.ts`) and this process's subscriptions.
 *
 * Sequencing runs in the background when a notification says changes were recorded (by any process),
 * coalesced: one run at a time, and one more if asked again during a run. It takes the lock only if free
 * (another process's run covers the same rows; a later notification or the safety re-check covers the
 * rest). {@link currentPosition} and {@link subscribe} wait for the lock instead, so that a caller sees
 * its own changes counted. Every run that gave positions wakes this process's subscriptions; other
 * processes hear of it by notification.
 */
export class PostgresChangeFeed {
  private readonly subscriptions = new Set<FeedSubscription>();
  private running: Promise<void> | undefined;
  private again = false;
  private safetyTimer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly driver: Driver,
    private readonly statements: FeedStatements,
    private readonly settings: ChangeFeedSettings,
    private readonly logger: Logger,
  ) {}

  /** Changes were recorded somewhere: sequence them, in the background, if anyone here listens. */
  requestSequencing(): void {
    if (this.subscriptions.size === 0) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.sequence(false);
        } catch (error) {
          this.logger.warn('The change feed could not give positions; the next run tries again.', { error });
        }
      } while (this.again);
      this.running = undefined;
    })();
  }

  /** Positions were given somewhere: the subscriptions read on. */
  wakeSubscriptions(): void {
    for (const subscription of this.subscriptions) subscription.wake();
  }

  async currentPosition(): Promise<ChangePosition> {
    await this.sequence(true);
    return (await this.ends()).sequenced;
  }

  async subscribe(subscriber: ChangeSubscriber): Promise<ChangeFeed> {
    if (typeof subscriber?.onChange !== 'function') {
      throw new BadRequestError('subscriber', 'subscriber.onChange must be a function.');
    }
    await this.sequence(true);
    const { sequenced, pruned } = await this.ends();
    const after =
      subscriber.after === undefined ? sequenced : requireInteger('after', subscriber.after, 0, sequenced);
    if (after < pruned) throw new ChangeFeedRetentionError(after, pruned);
    const subscription = new FeedSubscription(
      after,
      subscriber,
      this.driver,
      this.statements.read,
      this.logger,
      (closed) => this.detach(closed),
    );
    this.subscriptions.add(subscription);
    this.safetyTimer ??= setInterval(() => {
      this.requestSequencing();
      this.wakeSubscriptions();
    }, this.settings.safetyRecheckMs).unref();
    return subscription;
  }

  /** Closes every subscription and stops the timers; resolves once no delivery or run is in progress. */
  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
    await this.running;
  }

  private detach(subscription: FeedSubscription): void {
    this.subscriptions.delete(subscription);
    if (this.subscriptions.size === 0 && this.safetyTimer !== undefined) {
      clearInterval(this.safetyTimer);
      this.safetyTimer = undefined;
    }
  }

  private async ends(): Promise<{ sequenced: number; pruned: number }> {
    const [ends] = await this.driver.query<{ sequenced: number; pruned: number }>(this.statements.ends);
    return ends ?? { sequenced: 0, pruned: 0 };
  }

  /** One sequencer run (see `sql/change-feed.ts`); `wait`: wait for the lock rather than give up. */
  private async sequence(wait: boolean): Promise<void> {
    const { trySequencerLock, sequencerLock, sequence, prune } = this.statements;
    const through = await this.driver.transaction(async (transaction) => {
      const [lock] = await transaction.query<{ locked: boolean }>(wait ? sequencerLock : trySequencerLock);
      if (!lock?.locked) return undefined;
      const [sequenced] = await transaction.query<{ through: number }>(sequence);
      if (sequenced) await transaction.query(prune, [this.settings.changeRetention]);
      return sequenced?.through;
    });
    if (through !== undefined) this.wakeSubscriptions();
  }
}
