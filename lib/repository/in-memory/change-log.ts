import { ChangeFeedRetentionError } from '../../errors/index.js';
import type { Logger } from '../../logging/index.js';
import type {
  ChangeFeed,
  ChangeFeedResync,
  ChangePosition,
  ChangeSubscriber,
  ExternalTaskChange,
} from '../external-task-repository.js';
import { CallbackRuns, isThenable } from '../callback-runs.js';
import { subscriptionStart, validateChangeSubscriber } from '../repository-arguments.js';
import { RetainedChanges } from './retained-changes.js';
import type { StoredTask } from './stored-task.js';

/** The subscriber callbacks running, so that a `close()` from one does not wait for itself. */
const delivering = new CallbackRuns<Subscription>();

/** One subscription: where it is in the log, and whether a delivery to it is under way. */
class Subscription implements ChangeFeed {
  /** Set while a delivery to this subscription runs (synchronously, or awaiting the subscriber). */
  busy = false;
  /** The subscriber's pending answer, while there is one. */
  pending: Promise<void> | undefined;
  closed = false;
  /** The subscriber said its `onChange` never answers a promise: its calls need no tracked runs. */
  readonly synchronous: boolean;

  constructor(
    public position: ChangePosition,
    readonly subscriber: ChangeSubscriber,
    private readonly detach: (subscription: Subscription) => void,
  ) {
    this.synchronous = subscriber.synchronous === true;
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.detach(this);
    }
    // Called from its own onChange, waiting for that delivery would wait forever.
    if (delivering.owner() !== this) await this.pending;
  }
}

/**
 * The in-memory store's change feed: the latest `retention` changes with their positions, and the
 * subscriptions reading them. Each subscription has its own cursor and receives every change once, in
 * position order, even when a subscriber's `onChange` writes to the store (its new changes are appended
 * and delivered after the current one) or is asynchronous (awaited before the next). The log is trimmed
 * only when no synchronous delivery is under way, so a subscriber that keeps up never misses a change;
 * one whose asynchronous `onChange` falls behind the retained window is told with `onResync` (or halted,
 * see {@link ChangeSubscriber.onHalt}); a resume from a position older than the window is refused with
 * {@link ChangeFeedRetentionError}.
 *
 * A change is kept twice while it is new: as the frozen entry its operation made (with the record its
 * caller got), until every subscription has had it, so that they all receive that same entry; and in
 * the compact {@link RetainedChanges} for the length of the retention, from which a subscription that
 * starts (or falls) further back gets an equal one made again.
 */
export class ChangeLog {
  private readonly retained = new RetainedChanges();
  /** The entries some subscription has yet to receive: from `fresh[freshHead]` to the last change. */
  private fresh: (ExternalTaskChange | undefined)[] = [];
  private freshHead = 0;
  private last: ChangePosition = 0;
  /** Replaced, never changed, when one is added or removed: a loop over them sees the ones it began with. */
  private subscriptions: readonly Subscription[] = [];
  /** How many synchronous deliveries are on the stack (a subscriber writing from its onChange nests). */
  private synchronousDeliveries = 0;

  constructor(
    private readonly retention: number,
    private readonly logger: Logger,
  ) {}

  get currentPosition(): ChangePosition {
    return this.last;
  }

  /** The position the next change takes. */
  get nextPosition(): ChangePosition {
    return this.last + 1;
  }

  /** Keeps `change` of `task`, which takes the next position, for delivery by {@link publish}. */
  add(change: ExternalTaskChange, task: StoredTask): void {
    this.last = change.position;
    this.fresh.push(change);
    this.retained.push(change.type, task);
  }

  /** Forgets the changes added after `position` and not published yet (an operation that threw). */
  discardAfter(position: ChangePosition): void {
    const count = this.last - position;
    this.fresh.length -= count;
    this.retained.dropNewest(count);
    this.last = position;
  }

  /** Delivers the changes added since the last publication to every subscription. */
  publish(): void {
    const { subscriptions } = this;
    for (let index = 0; index < subscriptions.length; index++)
      this.pump(subscriptions[index] as Subscription);
    this.trim();
  }

  subscribe(subscriber: ChangeSubscriber): ChangeFeed {
    validateChangeSubscriber(subscriber);
    const after = subscriptionStart(subscriber.after, this.last);
    if (after < this.oldestResumable) throw new ChangeFeedRetentionError(after, this.oldestResumable);
    const subscription = new Subscription(after, subscriber, (s) => this.detach(s));
    this.subscriptions = [...this.subscriptions, subscription];
    this.pump(subscription);
    this.trim();
    return subscription;
  }

  private detach(subscription: Subscription): void {
    this.subscriptions = this.subscriptions.filter((other) => other !== subscription);
  }

  /** The oldest position a subscriber may resume after: the one just before the first retained change. */
  private get oldestResumable(): ChangePosition {
    return this.last - this.retained.size;
  }

  /**
   * Forgets the changes beyond the retention, and the entries every subscription has had, unless a
   * synchronous delivery is under way.
   */
  private trim(): void {
    if (this.synchronousDeliveries > 0) return;
    const excess = this.retained.size - this.retention;
    if (excess > 0) this.retained.dropOldest(excess);
    let neededFrom = this.last + 1;
    const { subscriptions } = this;
    for (let index = 0; index < subscriptions.length; index++)
      neededFrom = Math.min(neededFrom, (subscriptions[index] as Subscription).position + 1);
    neededFrom = Math.max(neededFrom, this.oldestResumable + 1);
    const freshFrom = this.last + 1 - (this.fresh.length - this.freshHead);
    if (neededFrom <= freshFrom) return;
    this.freshHead += neededFrom - freshFrom;
    // The entries let go are cleared at once; the array is made afresh only now and then.
    for (let index = this.freshHead - (neededFrom - freshFrom); index < this.freshHead; index++)
      this.fresh[index] = undefined;
    if (this.freshHead > 1024 && this.freshHead * 2 > this.fresh.length) {
      this.fresh = this.fresh.slice(this.freshHead);
      this.freshHead = 0;
    }
  }

  /** The change at `position` (retained): the entry its operation made while fresh, else one made again. */
  private changeAt(position: ChangePosition): ExternalTaskChange {
    const freshIndex = position - (this.last + 1) + this.fresh.length;
    if (freshIndex >= this.freshHead) return this.fresh[freshIndex] as ExternalTaskChange;
    return this.retained.change(position - this.oldestResumable - 1, position);
  }

  /**
   * Delivers to `subscription` what it has not had yet, synchronously while its subscriber answers
   * synchronously. Does nothing while a delivery to it is under way (a subscriber that writes to the
   * store is called back here from inside its own `onChange`): that delivery's loop goes on with the
   * new changes once the current one is done, so every subscriber sees every change in order.
   */
  private pump(subscription: Subscription): void {
    if (subscription.busy) return;
    subscription.busy = true;
    this.synchronousDeliveries++;
    try {
      while (!subscription.closed && subscription.position < this.last) {
        const pending = this.deliverNext(subscription);
        if (pending) {
          subscription.pending = pending.then(() => {
            subscription.pending = undefined;
            subscription.busy = false;
            this.pump(subscription);
            this.trim();
          });
          return;
        }
      }
      subscription.busy = false;
    } finally {
      this.synchronousDeliveries--;
    }
  }

  /** Delivers the next change (or a resync); answers a promise when the subscriber's answer is one. */
  private deliverNext(subscription: Subscription): Promise<void> | undefined {
    const oldestResumable = this.oldestResumable;
    if (subscription.position < oldestResumable) return this.resync(subscription, oldestResumable);
    const change = this.changeAt(subscription.position + 1);
    const previous = subscription.position;
    subscription.position = change.position;
    // The change and its record are frozen (dates included): every subscriber can be handed the same.
    let answer: unknown;
    try {
      answer = subscription.synchronous
        ? subscription.subscriber.onChange(change)
        : delivering.run(subscription, () => subscription.subscriber.onChange(change));
    } catch (error) {
      return this.failed(subscription, error, { change, previous });
    }
    if (!isThenable(answer)) return undefined;
    return Promise.resolve(answer).then(
      () => undefined,
      (error: unknown) => this.failed(subscription, error, { change, previous }),
    );
  }

  /** Tells `subscription`, which fell behind the retained changes, what it missed, and moves it on. */
  private resync(subscription: Subscription, oldestResumable: ChangePosition): Promise<void> | undefined {
    const { subscriber } = subscription;
    const resync: ChangeFeedResync = { lastDelivered: subscription.position, resumedAfter: oldestResumable };
    if (!subscriber.onResync) {
      const gap = new ChangeFeedRetentionError(subscription.position, oldestResumable);
      if (subscriber.onHalt) return this.halt(subscription, gap, undefined);
      this.logger.error('A change feed subscriber fell behind the retained changes and missed some.', {
        ...resync,
      });
      subscription.position = oldestResumable;
      return undefined;
    }
    subscription.position = oldestResumable;
    let answer: unknown;
    try {
      answer = delivering.run(subscription, () => subscriber.onResync?.(resync));
    } catch (error) {
      return this.failed(subscription, error, undefined);
    }
    if (!isThenable(answer)) return undefined;
    return Promise.resolve(answer).then(
      () => undefined,
      (error: unknown) => this.failed(subscription, error, undefined),
    );
  }

  /**
   * A subscriber callback threw or rejected: halts a subscriber with `onHalt` (before anything else is
   * delivered, its position back before the failed change) and is logged for the others.
   */
  private failed(
    subscription: Subscription,
    error: unknown,
    delivery: { change: ExternalTaskChange; previous: ChangePosition } | undefined,
  ): Promise<void> | undefined {
    if (subscription.subscriber.onHalt) {
      if (delivery) subscription.position = delivery.previous;
      return this.halt(subscription, error, delivery?.change);
    }
    this.logger.error('A change feed subscriber failed; delivery goes on.', {
      position: delivery?.change.position,
      error,
    });
    return undefined;
  }

  /** Closes `subscription` and tells its subscriber why; delivery to it stops here. */
  private halt(
    subscription: Subscription,
    error: unknown,
    change: ExternalTaskChange | undefined,
  ): undefined {
    subscription.closed = true;
    this.detach(subscription);
    try {
      subscription.subscriber.onHalt?.(error, change);
    } catch (haltError) {
      this.logger.error('A change feed subscriber’s onHalt threw.', { error: haltError });
    }
    return undefined;
  }
}
