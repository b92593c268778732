import { BadRequestError, ChangeFeedRetentionError } from '../../errors/index.js';
import type { Logger } from '../../logging/index.js';
import type { ExternalTask } from '../../model/index.js';
import { requireInteger } from '../../validation/index.js';
import type {
  ChangeFeed,
  ChangePosition,
  ChangeSubscriber,
  ExternalTaskChange,
} from '../external-task-repository.js';

/** A change before the log gave it its position. */
export type UnpositionedChange = ExternalTaskChange extends infer C
  ? C extends ExternalTaskChange
    ? Omit<C, 'position'>
    : never
  : never;

/** One subscription: where it is in the log, and whether a delivery to it is under way. */
class Subscription implements ChangeFeed {
  /** Set while a delivery to this subscription runs (synchronously, or awaiting the subscriber). */
  busy = false;
  /** The subscriber's pending answer, while there is one. */
  delivering: Promise<void> | undefined;
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
    await this.delivering;
  }
}

/**
 * The in-memory store's change feed: the last `retention` changes with their positions, and the
 * subscriptions reading them. Each subscription has its own cursor and receives every change once, in
 * position order, even when a subscriber's `onChange` writes to the store (its new changes are appended
 * and delivered after the current one) or is asynchronous (awaited before the next). A subscription that
 * falls behind the retained window is told with `onResync`; a resume from a position older than the
 * window is refused with {@link ChangeFeedRetentionError}.
 */
export class ChangeLog {
  private entries: ExternalTaskChange[] = [];
  private head = 0;
  private last: ChangePosition = 0;
  private readonly subscriptions = new Set<Subscription>();

  constructor(
    private readonly retention: number,
    private readonly logger: Logger,
  ) {}

  get currentPosition(): ChangePosition {
    return this.last;
  }

  /** Gives `changes` their positions, keeps them (within the retention) and delivers them. */
  append(changes: readonly UnpositionedChange[]): void {
    if (changes.length === 0) return;
    for (const change of changes) {
      this.entries.push(Object.freeze({ ...change, position: ++this.last }));
    }
    // Deliver before trimming: a subscriber that keeps up never falls behind, however many changes
    // one operation made.
    for (const subscription of this.subscriptions) this.pump(subscription);
    const excess = this.entries.length - this.head - this.retention;
    if (excess > 0) this.head += excess;
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  subscribe(subscriber: ChangeSubscriber): ChangeFeed {
    if (typeof subscriber?.onChange !== 'function') {
      throw new BadRequestError('subscriber', 'subscriber.onChange must be a function.');
    }
    const after =
      subscriber.after === undefined ? this.last : requireInteger('after', subscriber.after, 0, this.last);
    if (after < this.oldestResumable) throw new ChangeFeedRetentionError(after, this.oldestResumable);
    const subscription = new Subscription(after, subscriber, (s) => this.subscriptions.delete(s));
    this.subscriptions.add(subscription);
    this.pump(subscription);
    return subscription;
  }

  /** The oldest position a subscriber may resume after: the one just before the first retained change. */
  private get oldestResumable(): ChangePosition {
    return (this.entries[this.head]?.position ?? this.last + 1) - 1;
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
    while (!subscription.closed && subscription.position < this.last) {
      const pending = this.deliverNext(subscription);
      if (pending) {
        subscription.delivering = pending.then(() => {
          subscription.delivering = undefined;
          subscription.busy = false;
          this.pump(subscription);
        });
        return;
      }
    }
    subscription.busy = false;
  }

  /** Delivers the next change (or a resync); answers a promise when the subscriber's answer is one. */
  private deliverNext(subscription: Subscription): Promise<void> | undefined {
    const { subscriber } = subscription;
    const oldestResumable = this.oldestResumable;
    if (subscription.position < oldestResumable) {
      const resync = { lastDelivered: subscription.position, resumedAfter: oldestResumable };
      subscription.position = oldestResumable;
      if (!subscriber.onResync) {
        this.logger.error(
          'A change feed subscriber fell behind the retained changes and missed some.',
          resync,
        );
        return undefined;
      }
      return this.call(() => subscriber.onResync?.(resync), 'onResync', resync);
    }
    // Positions are consecutive, so the change after `position` sits this far past the first retained.
    const change = this.entries[this.head + subscription.position - oldestResumable] as ExternalTaskChange;
    subscription.position = change.position;
    const copy = Object.freeze({ ...change, task: frozenCopy(change.task) }) as ExternalTaskChange;
    return this.call(() => subscriber.onChange(copy), 'onChange', { position: change.position });
  }

  /** Runs a subscriber callback; a throw or rejection is logged, never passed on. */
  private call(
    callback: () => void | Promise<void> | undefined,
    name: string,
    context: object,
  ): Promise<void> | undefined {
    const report = (error: unknown): void =>
      this.logger.error(`A change feed subscriber's ${name} failed; delivery goes on.`, {
        ...context,
        error,
      });
    let answer: unknown;
    try {
      answer = callback();
    } catch (error) {
      report(error);
      return undefined;
    }
    if (!isThenable(answer)) return undefined;
    return Promise.resolve(answer).then(() => undefined, report);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

/** A frozen copy of `task` with Dates of its own, so one subscriber cannot change what another sees. */
function frozenCopy(task: ExternalTask): ExternalTask {
  const copy: Record<string, unknown> = { ...task };
  for (const [key, value] of Object.entries(copy)) {
    if (value instanceof Date) copy[key] = new Date(value.getTime());
  }
  return Object.freeze(copy) as unknown as ExternalTask;
}
