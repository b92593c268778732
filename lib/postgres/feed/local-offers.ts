import type { ChangePosition } from '../../repository/index.js';
import type { Queryable } from '../driver/driver.js';
import type { Recording } from '../sql/index.js';

/**
 * How long, in ms, a notification waits at most for this process's statements in flight to offer what
 * they recorded. Then the subscriptions read: what was notified is committed, so reading is always
 * right; the wait only spares reading what an answer is about to offer (a statement that waits for a
 * lock must not hold back every other process's changes).
 */
const deferredAtMostMs = 100;

/**
 * Runs the statements that record changes (their answers carry what they recorded, see
 * `sql/record-changes.ts`): what the statement batchers and the engine's operations are handed, in place
 * of the bare database, so that the feed knows a recording is in flight and is offered what it recorded.
 */
export interface ChangeRecorder {
  /** Runs a statement that records changes; offers what it recorded before the caller goes on. */
  record<Row extends Recording>(text: string, params?: readonly unknown[]): Promise<Row[]>;
}

/** A notification that came while recordings of this process were in flight. */
interface Deferred {
  through: ChangePosition;
  /** It waits for the recordings numbered below this (those started before it came). */
  readonly after: number;
}

/** What {@link LocalOffers} hands to the process's subscriptions. */
export interface OfferReceivers {
  /** What a statement of this process recorded (in one of its rows). */
  offer(rows: readonly Recording[]): void;
  /** Positions were given up to `through`: read on. */
  wake(through: ChangePosition): void;
}

/**
 * The local shortcut of the change feed: this process's subscriptions are handed what this process's own
 * statements recorded, from their answers, without reading it back. A notification of positions that
 * comes while such statements are in flight (it may be one of theirs, overtaking its answer) wakes the
 * subscriptions only once the statements started before it have answered and offered — or after
 * {@link deferredAtMostMs}, whichever comes first — so that a subscription reads only what it was not
 * offered.
 */
export class LocalOffers implements ChangeRecorder {
  private nextRecording = 0;
  private readonly inFlight = new Set<number>();
  private deferred: Deferred[] = [];
  private deferredTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly database: Queryable,
    private readonly receivers: OfferReceivers,
  ) {}

  async record<Row extends Recording>(text: string, params?: readonly unknown[]): Promise<Row[]> {
    const rows = await this.inFlightWhile(this.database.query<Row>(text, params));
    this.receivers.offer(rows);
    return rows;
  }

  /**
   * A notification of positions up to `through`: true if it waits for recordings in flight (they or the
   * timer wake the subscriptions), false if the caller wakes them now.
   */
  defer(through: ChangePosition): boolean {
    if (this.inFlight.size === 0) return false;
    // It waits for those in flight only, not for statements started after it, which could keep it
    // waiting for good.
    const after = this.nextRecording;
    const last = this.deferred.at(-1);
    if (last?.after === after) last.through = Math.max(last.through, through);
    else this.deferred.push({ through, after });
    this.deferredTimer ??= setTimeout(() => {
      this.deferredTimer = undefined;
      this.wakeDeferred(true);
    }, deferredAtMostMs).unref();
    return true;
  }

  /** Stops the timer; the notifications deferred are dropped (the subscriptions are closing). */
  close(): void {
    clearTimeout(this.deferredTimer);
    this.deferredTimer = undefined;
    this.deferred = [];
  }

  private inFlightWhile<T>(statement: Promise<T>): Promise<T> {
    const number = this.nextRecording++;
    this.inFlight.add(number);
    const settled = (): void => {
      // After the caller's continuation, which offers what the statement recorded.
      setImmediate(() => {
        this.inFlight.delete(number);
        this.wakeDeferred();
      });
    };
    statement.then(settled, settled);
    return statement;
  }

  /**
   * Wakes the subscriptions for the notifications no recording in flight may have offered — or, once
   * they waited {@link deferredAtMostMs} (`all`), for every notification deferred.
   */
  private wakeDeferred(all = false): void {
    let oldest = Infinity;
    if (!all) for (const number of this.inFlight) oldest = Math.min(oldest, number);
    let through: ChangePosition | undefined;
    while (this.deferred.length > 0 && this.deferred[0]!.after <= oldest) {
      through = Math.max(through ?? 0, this.deferred.shift()!.through);
    }
    if (this.deferred.length === 0) {
      clearTimeout(this.deferredTimer);
      this.deferredTimer = undefined;
    }
    if (through !== undefined) this.receivers.wake(through);
  }
}
