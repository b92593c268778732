import { ChangeFeedRetentionError } from '../../errors/index.js';
import type { Logger } from '../../logging/index.js';
import type {
  ChangeFeed,
  ChangeFeedResync,
  ChangePosition,
  ChangeSubscriber,
  ExternalTaskChange,
  ExternalTaskChangeType,
} from '../../repository/index.js';
import { CallbackRuns } from '../../repository/callback-runs.js';
import type { Queryable } from '../driver/driver.js';
import { toChange, type TaskRecord } from '../task-record.js';

/** A row of the feed's `read` statement, or a change this process recorded (`pruned` 0). */
export interface FeedRow {
  readonly pruned: number;
  readonly position: number | null;
  readonly type: ExternalTaskChangeType | null;
  readonly task: TaskRecord | null;
}

/** The subscriber callbacks running, so that a `close()` from one does not wait for itself. */
const delivering = new CallbackRuns<FeedSubscription>();

/** The subscription whose callback the caller runs in — while that callback still runs — if any. */
export function deliveringSubscription(): FeedSubscription | undefined {
  return delivering.owner();
}

/** How many changes one read fetches. */
const batchSize = 500;
/** How long a subscription waits before it reads again after a failed read. */
const readRetryMs = 1000;

/**
 * One subscription to the PostgreSQL change feed: a loop that reads the changes after its position, in
 * position order, and delivers them one at a time (awaiting an asynchronous subscriber), then sleeps
 * until woken (a notification that positions were given, the safety re-check, a reconnection). A wake
 * during a read is remembered, so none is lost. A failed read is logged and retried; a subscriber's
 * throw is logged and delivery goes on, or, for a subscriber with `onHalt`, stops the subscription
 * before the failed change (as a gap without `onResync` does). It never rejects.
 */
export class FeedSubscription implements ChangeFeed {
  private closed = false;
  private woken = false;
  /** Changes this process recorded, offered so that they need no read when they follow on. */
  private offered: FeedRow[] = [];
  private offeredThrough = 0;
  private sleeping: (() => void) | undefined;
  /** Whether a subscriber callback is running (the subscriber has not kept up with what it was given). */
  private calling = false;
  /** The loop: it ends once the subscription is closed, after the read or delivery in progress. */
  private readonly running: Promise<void>;

  constructor(
    private current: ChangePosition,
    private readonly subscriber: ChangeSubscriber,
    private readonly database: Queryable,
    private readonly readStatement: string,
    /**
     * How far ahead of `current` offered changes may reach, further, they are dropped and read: `atMost`
     * always (memory), `behind` (the retention, too) unless they follow on for a subscriber that keeps up.
     */
    private readonly offeredAtMost: { readonly atMost: number; readonly behind: number },
    private readonly logger: Logger,
    private readonly detach: (subscription: FeedSubscription) => void,
  ) {
    // Outside any delivery of another subscription this one may have been begun in.
    this.running = delivering.outside(() => this.run());
  }

  get position(): ChangePosition {
    return this.current;
  }

  /** There may be new changes (`through`: the last of them, when known): read again, unless held already. */
  wake(through?: ChangePosition): void {
    if (through === undefined || !this.holds(through)) this.readAgain();
  }

  /** Changes this process recorded, in position order: delivered without a read if they follow on. */
  offer(changes: readonly FeedRow[]): void {
    if (this.closed) return;
    // Following on from what it holds, for a subscriber not in a callback (a synchronous one, or one
    // that waits for nothing): nothing is missed, so the changes are delivered even beyond the retention.
    const followsOn =
      !this.calling && changes[0]?.position === Math.max(this.current, this.offeredThrough) + 1;
    const { atMost, behind } = this.offeredAtMost;
    this.offeredThrough = Math.max(this.offeredThrough, changes.at(-1)?.position ?? 0);
    if (this.offeredThrough - this.current > (followsOn ? atMost : behind)) {
      // Far behind (a slow subscriber, a large statement): a read bounds memory and sees the retention.
      this.offered = [];
      return this.readAgain();
    }
    for (const change of changes) this.offered.push(change);
    this.sleeping?.();
  }

  private readAgain(): void {
    this.woken = true;
    this.sleeping?.();
  }

  /** Whether the changes up to `position` were delivered or offered. */
  private holds(position: ChangePosition): boolean {
    return position <= Math.max(this.current, this.offeredThrough);
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.detach(this);
      this.wake();
    }
    // The read or delivery in progress ends first (a read must not outlive the close on a caller's pool);
    // called from its own onChange, waiting for that delivery would wait forever.
    if (deliveringSubscription() !== this) await this.running;
  }

  private async run(): Promise<void> {
    this.woken = true; // the first pass reads
    while (!this.closed) {
      const following = this.takeOffered();
      if (following.length > 0) {
        await this.deliver(following);
      } else if (this.woken) {
        this.woken = false;
        let rows: FeedRow[];
        try {
          rows = await this.database.query<FeedRow>(this.readStatement, [this.current, batchSize]);
        } catch (error) {
          this.logger.warn('A change feed subscription could not read the feed; it tries again.', { error });
          await this.sleep(readRetryMs);
          this.woken = true;
          continue;
        }
        await this.deliver(rows);
        // A page holds whole statements: as many changes as asked for or more means there may be more.
        if (rows.filter((row) => row.position !== null).length >= batchSize) this.woken = true;
      }
      if (!this.woken && this.offered.length === 0) await this.sleep(undefined);
    }
  }

  /**
   * The offered changes that follow on from the position, in order; what came before it is dropped. An
   * offer that leaves a gap (another process's changes, or a statement of this one still on its way) is
   * dropped too, and the subscription reads instead.
   */
  private takeOffered(): FeedRow[] {
    const offered = this.offered
      .filter((row) => row.position !== null && row.position > this.current)
      .sort((a, b) => a.position! - b.position!);
    this.offered = [];
    let end = 0;
    while (end < offered.length && offered[end]!.position === this.current + end + 1) end++;
    if (end < offered.length) this.woken = true;
    return offered.slice(0, end);
  }

  private async deliver(rows: readonly FeedRow[]): Promise<void> {
    const pruned = rows[0]?.pruned ?? 0;
    if (this.current < pruned && !this.closed) {
      const resync: ChangeFeedResync = { lastDelivered: this.current, resumedAfter: pruned };
      if (!this.subscriber.onResync) {
        if (this.subscriber.onHalt)
          return this.halt(new ChangeFeedRetentionError(this.current, pruned), undefined);
        this.logger.error('A change feed subscriber fell behind the retained changes and missed some.', {
          ...resync,
        });
        this.current = pruned;
      } else {
        this.current = pruned;
        const failure = await this.call(() => this.subscriber.onResync?.(resync), undefined);
        if (failure !== undefined && this.subscriber.onHalt) return this.halt(failure.reason, undefined);
      }
    }
    for (const row of rows) {
      if (this.closed) return;
      if (row.position === null || row.type === null || row.task === null || row.position <= this.current)
        continue;
      const change: ExternalTaskChange = toChange(row.type, row.position, row.task);
      const previous = this.current;
      this.current = row.position;
      const error = await this.call(() => this.subscriber.onChange(change), change);
      if (error !== undefined && this.subscriber.onHalt) {
        this.current = previous;
        return this.halt(error.reason, change);
      }
    }
  }

  /**
   * Runs a subscriber callback to its end. A throw or rejection is answered (for `onHalt`) and logged
   * when the subscriber has no `onHalt`; it is never passed on.
   */
  private async call(
    callback: () => void | Promise<void> | undefined,
    change: ExternalTaskChange | undefined,
  ): Promise<{ reason: unknown } | undefined> {
    this.calling = true;
    try {
      await delivering.run(this, callback);
      return undefined;
    } catch (reason) {
      if (!this.subscriber.onHalt) {
        this.logger.error('A change feed subscriber failed; delivery goes on.', {
          position: change?.position,
          error: reason,
        });
      }
      return { reason };
    } finally {
      this.calling = false;
    }
  }

  /** Closes the subscription and tells the subscriber why: delivery stops here (see `onHalt`). */
  private halt(error: unknown, change: ExternalTaskChange | undefined): void {
    this.closed = true;
    this.detach(this);
    try {
      this.subscriber.onHalt?.(error, change);
    } catch (haltError) {
      this.logger.error("A change feed subscriber's onHalt threw.", { error: haltError });
    }
  }

  /** Waits until woken (or `ms` passed). */
  private sleep(ms: number | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => done(), ms);
      const done = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        this.sleeping = undefined;
        resolve();
      };
      this.sleeping = done;
      if (this.woken || this.closed || this.offered.length > 0) done();
    });
  }
}
