import { ChangeFeedRetentionError } from '../../errors/index.js';
import type { Logger } from '../../logging/index.js';
import type {
  ChangeFeed,
  ChangeFeedResync,
  ChangePosition,
  ChangeSubscriber,
  ExternalTaskChange,
} from '../external-task-repository.js';
import type { ExternalTask } from '../../model/index.js';
import type { ChangeFields, EffectChange } from './operation-effects.js';
import { CallbackRuns, isThenable } from '../callback-runs.js';
import { subscriptionStart, validateChangeSubscriber } from '../repository-arguments.js';

/** The subscriber callbacks running, so that a `close()` from one does not wait for itself. */
const delivering = new CallbackRuns<Subscription>();

/** One subscription: where it is in the log, and whether a delivery to it is under way. */
class Subscription implements ChangeFeed {
  /** Set while a delivery to this subscription runs (synchronously, or awaiting the subscriber). */
  busy = false;
  /** The subscriber's pending answer, while there is one. */
  pending: Promise<void> | undefined;
  closed = false;

  constructor(
    public position: ChangePosition,
    readonly subscriber: ChangeSubscriber,
    private readonly detach: (subscription: Subscription) => void,
  ) {}

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
 */
export class ChangeLog {
  private entries: ExternalTaskChange[] = [];
  private head = 0;
  private last: ChangePosition = 0;
  private readonly subscriptions = new Set<Subscription>();
  /** How many synchronous deliveries are on the stack (a subscriber writing from its onChange nests). */
  private synchronousDeliveries = 0;

  constructor(
    private readonly retention: number,
    private readonly logger: Logger,
  ) {}

  get currentPosition(): ChangePosition {
    return this.last;
  }

  /**
   * Gives `changes` their positions, keeps them (within the retention) and delivers them. An entry is
   * small: its type, position and what its type carries, and a reference to the (frozen) record.
   */
  append(changes: readonly EffectChange[]): void {
    if (changes.length === 0) return;
    for (const { fields, task } of changes) this.entries.push(positioned(fields, task, ++this.last));
    for (const subscription of this.subscriptions) this.pump(subscription);
    this.trim();
  }

  subscribe(subscriber: ChangeSubscriber): ChangeFeed {
    validateChangeSubscriber(subscriber);
    const after = subscriptionStart(subscriber.after, this.last);
    if (after < this.oldestResumable) throw new ChangeFeedRetentionError(after, this.oldestResumable);
    const subscription = new Subscription(after, subscriber, (s) => this.subscriptions.delete(s));
    this.subscriptions.add(subscription);
    this.pump(subscription);
    this.trim();
    return subscription;
  }

  /** The oldest position a subscriber may resume after: the one just before the first retained change. */
  private get oldestResumable(): ChangePosition {
    return (this.entries[this.head]?.position ?? this.last + 1) - 1;
  }

  /** Forgets the changes beyond the retention, unless a synchronous delivery is under way. */
  private trim(): void {
    if (this.synchronousDeliveries > 0) return;
    const excess = this.entries.length - this.head - this.retention;
    if (excess > 0) this.head += excess;
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
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
    const { subscriber } = subscription;
    const oldestResumable = this.oldestResumable;
    if (subscription.position < oldestResumable) {
      const resync: ChangeFeedResync = {
        lastDelivered: subscription.position,
        resumedAfter: oldestResumable,
      };
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
      return this.call(subscription, () => subscriber.onResync?.(resync), undefined);
    }
    // Positions are consecutive, so the change after `position` sits this far past the first retained.
    const change = this.entries[this.head + subscription.position - oldestResumable] as ExternalTaskChange;
    const previous = subscription.position;
    subscription.position = change.position;
    // The change and its record are frozen (dates included): every subscriber can be handed the same.
    return this.call(subscription, () => subscriber.onChange(change), { change, previous });
  }

  /**
   * Runs a subscriber callback. A throw or rejection halts a subscriber with `onHalt` (before anything
   * else is delivered, its position back before the failed change) and is logged for the others.
   */
  private call(
    subscription: Subscription,
    callback: () => void | Promise<void> | undefined,
    delivery: { change: ExternalTaskChange; previous: ChangePosition } | undefined,
  ): Promise<void> | undefined {
    const fail = (error: unknown): Promise<void> | undefined => {
      if (subscription.subscriber.onHalt) {
        if (delivery) subscription.position = delivery.previous;
        return this.halt(subscription, error, delivery?.change);
      }
      this.logger.error('A change feed subscriber failed; delivery goes on.', {
        position: delivery?.change.position,
        error,
      });
      return undefined;
    };
    let answer: unknown;
    try {
      answer = delivering.run(subscription, callback);
    } catch (error) {
      return fail(error);
    }
    if (!isThenable(answer)) return undefined;
    return Promise.resolve(answer).then(
      () => undefined,
      (error: unknown) => fail(error),
    );
  }

  /** Closes `subscription` and tells its subscriber why; delivery to it stops here. */
  private halt(
    subscription: Subscription,
    error: unknown,
    change: ExternalTaskChange | undefined,
  ): undefined {
    subscription.closed = true;
    this.subscriptions.delete(subscription);
    try {
      subscription.subscriber.onHalt?.(error, change);
    } catch (haltError) {
      this.logger.error('A change feed subscriber’s onHalt threw.', { error: haltError });
    }
    return undefined;
  }
}

/**
 * The frozen feed entry of a change. Written out per type: an object literal after a spread takes V8's
 * slow path, about 0.5 µs a change.
 */
function positioned(fields: ChangeFields, task: ExternalTask, position: ChangePosition): ExternalTaskChange {
  switch (fields.type) {
    case 'finished':
      return Object.freeze({ type: fields.type, position, task, result: fields.result });
    case 'failed':
      return Object.freeze({
        type: fields.type,
        position,
        task,
        error: fields.error,
        incident: fields.incident,
      });
    case 'retryScheduled':
      return Object.freeze({ type: fields.type, position, task, error: fields.error });
    default:
      return Object.freeze({ type: fields.type, position, task });
  }
}
