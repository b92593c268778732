import { ChangeFeedRetentionError } from '../errors/index.js';
import type { Logger } from '../logging/index.js';
import {
  subscriptionStart,
  validateChangeSubscriber,
  type ChangeFeed,
  type ChangePosition,
  type ChangeSubscriber,
} from '../repository/index.js';
import type { Driver } from './driver/driver.js';
import { deliveringSubscription, FeedSubscription } from './feed-subscription.js';
import { storeClosedError } from './store-closed.js';
import type { changeFeedStatements, Recording } from './sql/index.js';

type FeedStatements = ReturnType<typeof changeFeedStatements>;

/**
 * How far ahead of what a subscription delivered the changes offered to it may reach: further, it reads
 * instead, so that a slow subscriber holds no more than this in memory and learns of the retention.
 */
const offeredAtMost = 500;

/**
 * How long, in ms, a notification waits at most for this process's statements in flight to offer what
 * they recorded. Then the subscriptions read: what was notified is committed, so reading is always
 * right; the wait only spares reading what an answer is about to offer (a statement that waits for a
 * lock must not hold back every other process's changes).
 */
const deferredAtMostMs = 100;

/** Settings of {@link PostgresChangeFeed}. */
export interface ChangeFeedSettings {
  /** How often, in real ms, open subscriptions re-check without a notification. */
  readonly safetyRecheckInterval: number;
  /** How many of the latest positions the feed keeps (this process's statements prune to it). */
  readonly changesRetained: number;
}

/** A notification that came while recordings of this process were in flight. */
interface Deferred {
  through: ChangePosition;
  /** It waits for the recordings numbered below this (those started before it came). */
  readonly after: number;
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
  /** This process's recording statements in flight (by number), and the notifications that wait for them. */
  private nextRecording = 0;
  private readonly recordingsInFlight = new Set<number>();
  private deferred: Deferred[] = [];
  private deferredTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  constructor(
    private readonly driver: Driver,
    private readonly statements: FeedStatements,
    private readonly settings: ChangeFeedSettings,
    private readonly logger: Logger,
  ) {}

  /**
   * Positions were given somewhere (`through`: the last of them, when known): the subscriptions that
   * have not delivered it read on.
   */
  wakeSubscriptions(through?: ChangePosition): void {
    if (this.closed) return;
    if (through !== undefined && this.recordingsInFlight.size > 0) {
      // Maybe the notification of one of them, which overtook its answer: that answer offers the changes.
      // It waits for those only, not for statements started after it, which could keep it waiting for good.
      const after = this.nextRecording;
      const last = this.deferred.at(-1);
      if (last?.after === after) last.through = Math.max(last.through, through);
      else this.deferred.push({ through, after });
      this.deferredTimer ??= setTimeout(() => {
        this.deferredTimer = undefined;
        this.wakeDeferred(true);
      }, deferredAtMostMs).unref();
      return;
    }
    for (const subscription of this.subscriptions) subscription.wake(through);
  }

  /**
   * Runs a statement of this process that records changes. A notification that comes while such
   * statements are in flight wakes the subscriptions once those started before it have answered (and
   * offered what they recorded), so that a subscription reads only what it was not offered — or after
   * {@link deferredAtMostMs}, whichever comes first.
   */
  recording<T>(statement: Promise<T>): Promise<T> {
    const number = this.nextRecording++;
    this.recordingsInFlight.add(number);
    const settled = (): void => {
      // After the caller's continuation, which offers what the statement recorded.
      setImmediate(() => {
        this.recordingsInFlight.delete(number);
        this.wakeDeferred();
      });
    };
    statement.then(settled, settled);
    return statement;
  }

  /**
   * What a statement of this process recorded (in one of its rows): offered to the subscriptions, which
   * deliver it without reading it back when it follows on from what they delivered.
   */
  offer(rows: readonly Recording[]): void {
    const recorded = rows.find((row) => row.recorded !== null)?.recorded;
    if (!recorded || this.subscriptions.size === 0) return;
    const changes = recorded.map(([position, type, task]) => ({ pruned: 0, position, type, task }));
    for (const subscription of this.subscriptions) subscription.offer(changes);
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
    clearTimeout(this.deferredTimer);
    this.deferredTimer = undefined;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
  }

  /**
   * Wakes the subscriptions for the notifications no recording in flight may have offered — or, once
   * they waited {@link deferredAtMostMs} (`all`), for every notification deferred.
   */
  private wakeDeferred(all = false): void {
    let oldest = Infinity;
    if (!all) for (const number of this.recordingsInFlight) oldest = Math.min(oldest, number);
    let through: ChangePosition | undefined;
    while (this.deferred.length > 0 && this.deferred[0]!.after <= oldest) {
      through = Math.max(through ?? 0, this.deferred.shift()!.through);
    }
    if (this.deferred.length === 0) {
      clearTimeout(this.deferredTimer);
      this.deferredTimer = undefined;
    }
    if (through !== undefined) for (const subscription of this.subscriptions) subscription.wake(through);
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
