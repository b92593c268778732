import type { Clock, TimerHandle } from '../clock/index.js';
import { ChangeFeedRetentionError } from '../errors/index.js';
import type { Logger } from '../logging/index.js';
import type {
  ChangeFeed,
  ChangePosition,
  ConsumerLeases,
  ExternalTaskRepository,
} from '../repository/index.js';
import { CallbackRuns } from '../repository/callback-runs.js';
import { defaultWorkerId } from '../model/index.js';
import type { NamedOutcomeConsumer, ResolvedNamedConsumer } from './consume-outcomes-options.js';
import type { DeliveryHooks, OutcomeDelivery } from './outcome-delivery.js';

/** What a named consumption uses of its facade. */
export interface NamedConsumptionParts {
  readonly repository: ExternalTaskRepository;
  readonly clock: Clock;
  readonly logger: Logger;
  /** A delivery of the consumer's outcomes, its callbacks run `within` the consumption's own runs. */
  delivery(hooks: DeliveryHooks, within: <T>(callback: () => T) => T): OutcomeDelivery;
  /** The consumption closed (or stopped). */
  closed(consumption: NamedOutcomeConsumption): void;
}

/** The callbacks of each named consumption running, so that its `close()` from one does not wait for it. */
const ownRuns = new CallbackRuns<NamedOutcomeConsumption>();

/**
 * One replica of a named consumer. Its states:
 * - **waiting**: it asks the store for the name's lease (at once, then every third of `leaseDuration`,
 *   or when the holder's lease runs out if sooner);
 * - **holding**: it got the lease and the position stored for the name; its feed hands over the outcomes
 *   after that position (the oldest retained change if none was ever stored). It writes to the store
 *   every third of `leaseDuration`, and `commitInterval` after a change was handled: each write renews
 *   the lease and stores the position of the last change handled, never of one not handled yet. A write
 *   answered `lost` (another took the lease over), or no renewal for `leaseDuration` (the lease may have
 *   run out), closes the feed — after the `onOutcome` under way — and it waits again;
 * - **closed**: by `close()`, or by itself when its delivery stopped (attempts spent, a gap without
 *   `onResync`): the feed is closed, the position of what was handled stored and the lease released.
 * Steps that change the lease or the feed (an acquisition and the feed's opening, a loss's closing of the
 * feed) run one after another; `close()` waits for the one under way.
 */
export class NamedOutcomeConsumption implements NamedOutcomeConsumer {
  readonly consumer: string;
  /** This consumption's id in the store: host, process and a random UUID. */
  private readonly holder = defaultWorkerId();
  /** Whether the store gave it the lease and it has not given it up or lost it. */
  private holding = false;
  private closed = false;
  private closing: Promise<void> | undefined;
  private delivery: OutcomeDelivery | undefined;
  private feed: ChangeFeed | undefined;
  /** The position stored for the name, as far as it knows. */
  private stored: ChangePosition | undefined;
  /** The position of the last change handled while it holds the lease. */
  private handled: ChangePosition | undefined;
  /** When (by the api's clock) the last acquisition or renewal that succeeded was asked for. */
  private renewedAt = 0;
  /** The next acquisition (waiting) or renewal (holding); `undefined` when none is set. */
  private timer: TimerHandle = undefined;
  /** The write due `commitInterval` after a change was handled; `undefined` when none is set. */
  private commitTimer: TimerHandle = undefined;
  private flushing: Promise<void> | undefined;
  private flushAgain = false;
  private step: Promise<void> = Promise.resolve();
  /** How often it renews its lease, or asks for it: a third of `leaseDuration`. */
  private readonly interval: number;

  constructor(
    private readonly settings: ResolvedNamedConsumer,
    private readonly leases: ConsumerLeases,
    private readonly parts: NamedConsumptionParts,
  ) {
    this.consumer = settings.consumer;
    this.interval = Math.max(1, Math.floor(settings.leaseDuration / 3));
  }

  get position(): ChangePosition {
    return this.handled ?? this.stored ?? 0;
  }

  get holdsLease(): boolean {
    return this.holding && !this.closed;
  }

  /**
   * Asks for the lease once, and consumes if it got it. A failure of the store, or a stored position the
   * store no longer retains (without `onResync`), rejects, leaving nothing behind.
   */
  async start(): Promise<void> {
    this.step = this.acquire(true);
    try {
      await this.step;
    } catch (error) {
      this.closed = true;
      this.clearTimers();
      throw error;
    }
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return ownRuns.owner() === this ? Promise.resolve() : this.closing;
  }

  private async shutDown(): Promise<void> {
    this.closed = true;
    this.clearTimers();
    this.delivery?.stop();
    await this.step.catch(() => undefined);
    await this.feed?.close();
    await this.flushing;
    if (this.holding) {
      this.holding = false;
      const position = this.unstored();
      await this.leases
        .release({
          consumer: this.consumer,
          holder: this.holder,
          ...(position !== undefined && { position }),
        })
        .catch((error: unknown) => this.warn('could not release its lease; it runs out by itself', error));
    }
    this.parts.closed(this);
  }

  /** Asks for the lease; consumes if it got it. `first`: a failure rejects instead of being retried. */
  private async acquire(first: boolean): Promise<void> {
    if (this.closed || this.holding) return;
    const askedAt = this.parts.clock.now();
    const request = {
      consumer: this.consumer,
      holder: this.holder,
      leaseDuration: this.settings.leaseDuration,
    };
    let answer;
    try {
      answer = await this.leases.acquire(request);
    } catch (error) {
      if (first) throw error;
      this.warn('could not ask for its lease; it asks again', error);
      return this.schedule(() => this.enqueue(() => this.acquire(false)), this.interval);
    }
    if (answer.status === 'held') {
      const wait = Math.min(Math.ceil(answer.msUntilExpiry), this.interval);
      return this.schedule(() => this.enqueue(() => this.acquire(false)), wait);
    }
    this.holding = true;
    this.renewedAt = askedAt;
    this.stored = answer.position;
    this.handled = undefined;
    if (this.closed) return; // close() releases it
    try {
      await this.consume();
    } catch (error) {
      await this.giveUp(error, first);
    }
  }

  /** Opens the feed after the stored position (the oldest retained change if none) and starts renewing. */
  private async consume(): Promise<void> {
    const delivery = this.parts.delivery(
      {
        handled: (position) => {
          if (delivery === this.delivery) this.markHandled(position);
        },
        halted: () => void this.close(),
      },
      (callback) => ownRuns.run(this, callback),
    );
    this.delivery = delivery;
    this.feed = await delivery.open(this.parts.repository, this.stored ?? 'oldest', true);
    this.schedule(() => this.tick(), this.interval);
  }

  /**
   * The feed could not be opened: the lease goes back. A position behind the store's retention stops
   * the consumption (told to `onError` unless this is the first attempt, which rejects); a failure of the
   * store is retried later, or rejects on the first attempt.
   */
  private async giveUp(error: unknown, first: boolean): Promise<void> {
    const delivery = this.delivery;
    this.delivery = undefined;
    this.holding = false;
    await this.leases
      .release({ consumer: this.consumer, holder: this.holder })
      .catch((releaseError: unknown) => this.warn('could not release its lease', releaseError));
    if (first) throw error;
    if (error instanceof ChangeFeedRetentionError) {
      delivery?.fail(error, undefined, { attempt: 0, retryIn: undefined });
      void this.close();
      return;
    }
    this.warn('could not open its feed; it asks for the lease again', error);
    this.schedule(() => this.enqueue(() => this.acquire(false)), this.interval);
  }

  /** A renewal is due: it renews (storing the position), or gives the lease up if it may have run out. */
  private tick(): void {
    if (this.closed || !this.holding) return;
    if (this.parts.clock.now() - this.renewedAt >= this.settings.leaseDuration) {
      return this.lose('no renewal succeeded for leaseDuration: its lease may have run out');
    }
    void this.flush();
    this.schedule(() => this.tick(), this.interval);
  }

  private markHandled(position: ChangePosition): void {
    this.handled = position;
    if (this.commitTimer !== undefined || this.closed || !this.holding) return;
    this.commitTimer = this.parts.clock.setTimeout(() => {
      this.commitTimer = undefined;
      void this.flush();
    }, this.settings.commitInterval);
  }

  /** One write at a time; a write asked for while one runs follows it. Never rejects. */
  private flush(): Promise<void> {
    if (this.flushing) {
      this.flushAgain = true;
      return this.flushing;
    }
    this.flushing = (async () => {
      do {
        this.flushAgain = false;
        await this.renew();
      } while (this.flushAgain && this.holding && !this.closed);
      this.flushing = undefined;
    })();
    return this.flushing;
  }

  /** Renews the lease, storing the position of the last change handled if it is not stored yet. */
  private async renew(): Promise<void> {
    if (this.closed || !this.holding) return;
    const position = this.unstored();
    const askedAt = this.parts.clock.now();
    let answer;
    try {
      answer = await this.leases.renew({
        consumer: this.consumer,
        holder: this.holder,
        leaseDuration: this.settings.leaseDuration,
        ...(position !== undefined && { position }),
      });
    } catch (error) {
      this.warn('could not renew its lease; it tries again', error);
      return;
    }
    if (answer.status === 'lost') return this.lose('another replica took its lease over');
    this.renewedAt = askedAt;
    if (position !== undefined) this.stored = Math.max(this.stored ?? 0, position);
  }

  /** The position of the last change handled, if the store does not have it yet. */
  private unstored(): ChangePosition | undefined {
    const { handled, stored } = this;
    return handled !== undefined && (stored === undefined || handled > stored) ? handled : undefined;
  }

  /** Stops consuming (the feed closes after the `onOutcome` under way) and waits to take the lease again. */
  private lose(reason: string): void {
    if (this.closed || !this.holding) return;
    this.holding = false;
    this.parts.logger.warn(`The named consumer ${this.consumer} stopped consuming: ${reason}.`);
    this.clearTimers();
    const { delivery, feed } = this;
    this.delivery = undefined;
    this.feed = undefined;
    delivery?.stop();
    this.enqueue(async () => {
      await feed?.close();
      this.schedule(() => this.enqueue(() => this.acquire(false)), this.interval);
    });
  }

  /** Runs `body` after the step under way. */
  private enqueue(body: () => Promise<void>): void {
    this.step = this.step.catch(() => undefined).then(body);
    this.step.catch((error: unknown) => this.warn('failed', error));
  }

  private schedule(callback: () => void, delay: number): void {
    if (this.closed) return;
    this.parts.clock.clearTimeout(this.timer);
    this.timer = this.parts.clock.setTimeout(() => {
      this.timer = undefined;
      callback();
    }, delay);
  }

  private clearTimers(): void {
    if (this.timer !== undefined) this.parts.clock.clearTimeout(this.timer);
    if (this.commitTimer !== undefined) this.parts.clock.clearTimeout(this.commitTimer);
    this.timer = undefined;
    this.commitTimer = undefined;
  }

  private warn(what: string, error: unknown): void {
    this.parts.logger.warn(`The named consumer ${this.consumer} ${what}.`, { error });
  }
}
