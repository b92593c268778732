import { ChangeFeedRetentionError } from '../../errors/index.js';
import type { Logger } from '../../logging/index.js';
import {
  subscriptionStart,
  validateChangeSubscriber,
  type ChangeFeed,
  type ChangePosition,
  type ChangeSubscriber,
} from '../../repository/index.js';
import type { Driver } from '../driver/driver.js';
import type { changeFeedStatements, Recording } from '../sql/index.js';
import { storeClosedError } from '../store-closed.js';
import { deliveringSubscription, FeedSubscription } from './feed-subscription.js';
import { LocalOffers, type ChangeRecorder } from './local-offers.js';

type FeedStatements = ReturnType<typeof changeFeedStatements>;

/**
 * How far ahead of what a subscription delivered the changes offered to it may reach: further, it reads
 * instead, so that a slow subscriber holds no more than this in memory and learns of the retention.
 */
const offeredAtMost = 500;

/** Settings of {@link PostgresChangeFeed}. */
export interface ChangeFeedSettings {
  /** How often, in real ms, open subscriptions re-check without a notification. */
  readonly safetyRecheckInterval: number;
  /** How many of the latest positions the feed keeps (this process's statements prune to it). */
  readonly changesRetained: number;
}

/**
 * The change feed of a PostgreSQL store, in one process: this process's subscriptions. The statements
 * that record changes give them their positions in commit order and notify every process (see
 * `sql/record-changes.ts`); a notification, or the safety re-check, wakes the subscriptions, which read
 * on from their positions.
 */
export class PostgresChangeFeed {
  private readonly subscriptions = new Set<FeedSubscription>();
  /** Every subscription it began, open or closed. */
  private readonly begun = new WeakSet<FeedSubscription>();
  private safetyTimer: ReturnType<typeof setInterval> | undefined;
  private readonly offers: LocalOffers;
  private closed = false;

  constructor(
    private readonly driver: Driver,
    private readonly statements: FeedStatements,
    private readonly settings: ChangeFeedSettings,
    private readonly logger: Logger,
  ) {
    this.offers = new LocalOffers(driver, {
      offer: (rows) => this.offer(rows),
      wake: (through) => this.wakeNow(through),
    });
  }

  /** Runs this process's statements that record changes, offering what they recorded (see {@link LocalOffers}). */
  get recorder(): ChangeRecorder {
    return this.offers;
  }

  /**
   * Positions were given somewhere (`through`: the last of them, when known): the subscriptions that
   * have not delivered it read on — once this process's recordings in flight offered what they recorded.
   */
  wakeSubscriptions(through?: ChangePosition): void {
    if (this.closed) return;
    if (through !== undefined && this.offers.defer(through)) return;
    this.wakeNow(through);
  }

  /**
   * What a statement of this process recorded (in one of its rows): offered to the subscriptions, which
   * deliver it without reading it back when it follows on from what they delivered.
   */
  private offer(rows: readonly Recording[]): void {
    const recorded = rows.find((row) => row.recorded !== null)?.recorded;
    if (!recorded || this.subscriptions.size === 0) return;
    const changes = recorded.map(([position, type, task]) => ({ pruned: 0, position, type, task }));
    for (const subscription of this.subscriptions) subscription.offer(changes);
  }

  private wakeNow(through: ChangePosition | undefined): void {
    if (this.closed) return;
    for (const subscription of this.subscriptions) subscription.wake(through);
  }

  async currentPosition(): Promise<ChangePosition> {
    return (await this.ends()).sequenced;
  }

  async subscribe(subscriber: ChangeSubscriber): Promise<ChangeFeed> {
    validateChangeSubscriber(subscriber);
    const { sequenced, pruned } = await this.ends();
    // A subscribe asked before the store closed, answered after it: no subscription may outlive the store.
    if (this.closed) throw storeClosedError();
    const after = subscriptionStart(subscriber.after, sequenced);
    if (after < pruned) throw new ChangeFeedRetentionError(after, pruned);
    const subscription = new FeedSubscription(
      after,
      subscriber,
      this.driver,
      this.statements.read,
      { atMost: offeredAtMost, behind: Math.min(this.settings.changesRetained, offeredAtMost) },
      this.logger,
      (closed) => this.detach(closed),
    );
    this.subscriptions.add(subscription);
    this.begun.add(subscription);
    this.safetyTimer ??= setInterval(
      () => this.wakeSubscriptions(),
      this.settings.safetyRecheckInterval,
    ).unref();
    return subscription;
  }

  /** Whether the caller runs inside a subscriber callback of one of its subscriptions. */
  get calledFromSubscriber(): boolean {
    const subscription = deliveringSubscription();
    return subscription !== undefined && this.begun.has(subscription);
  }

  /**
   * Closes every subscription and stops the timer; resolves once no delivery is in progress. A
   * subscription asked for before and not yet begun is refused.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.offers.close();
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
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
}
