import type { Logger } from '../logging/index.js';
import type { AvailabilityHint } from '../repository/index.js';
import type { Driver, Listening } from './driver/driver.js';
import { sqlNames } from './sql/names.js';
import { barrierPayload, parseNotification, type StoreNotification } from './notification-protocol.js';
import { pendingTopics } from './sql/pending-topics.js';

/** What the store's notifications mean to it. */
export interface NotificationReceivers {
  /** `h…`: availability hints of one statement (see `notification-protocol.ts`). */
  onHints(hints: readonly AvailabilityHint[]): void;
  /** `s` + the last position: a statement recorded changes, with their positions. */
  onRecorded(through: number): void;
  /**
   * The connection was lost and is back: notifications in between may be lost. (The hints are made up
   * for here, see {@link NotificationListener}; the rest is the receiver's to re-read.)
   */
  onReconnected(): void;
}

/**
 * Back-off of reconnection attempts, in ms: doubling from the first to the last, and from the first again
 * once a connection listened for at least the last.
 * The same back-off spaces attempts to recover the hints missed meanwhile.
 */
const firstRetryMs = 100;
const lastRetryMs = 5000;
/** How long a {@link NotificationListener.barrier} waits for its notification at most. */
const barrierTimeoutMs = 2000;

/**
 * The store's one LISTEN connection. States: idle → connecting → listening; a lost connection (or a
 * failed first attempt) goes back to connecting after a back-off (100 ms doubling up to 5 s, for as long
 * as it takes), re-LISTENs and then recovers: it reports `onReconnected` (the feed re-reads from its
 * positions), and makes up for the hints it may have missed by hinting every topic with pending tasks as
 * available now (a long poll so woken claims, then learns its next due time from the store), retrying
 * that read with the same back-off until it succeeds. The read follows the LISTEN, so a hint is missed by
 * neither. Closed is final: {@link close} waits for the attempts in flight and leaves no timer or
 * connection behind. Notifications are parsed here and handed to the receivers; a malformed one is
 * logged and dropped.
 */
export class NotificationListener {
  private listening: Listening | undefined;
  private readonly barriers = new Map<string, () => void>();
  private barrierCount = 0;
  private started: Promise<void> | undefined;
  /** The attempts (to connect, or to recover missed hints) in flight, which {@link close} waits for. */
  private readonly attempts = new Set<Promise<void>>();
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private retryMs = firstRetryMs;
  /** When the current connection began listening (`Date.now()`), while it does. */
  private listeningSince: number | undefined;
  private recoveryTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private readonly pendingTopics: string;

  /** `channel` is the store's schema name, which names its channel (see `sql/names.ts`). */
  constructor(
    private readonly driver: Driver,
    private readonly channel: string,
    private readonly receivers: NotificationReceivers,
    private readonly logger: Logger,
  ) {
    this.pendingTopics = pendingTopics(sqlNames(channel));
  }

  /**
   * Starts listening once; resolves after the first attempt (a failed one is logged and retried in the
   * background: hints are lossy, and the feed has its safety re-check).
   */
  start(): Promise<void> {
    this.started ??= this.track(this.connect(false));
    return this.started;
  }

  /**
   * Resolves once every notification committed before this call has been handed out: a barrier sent
   * through the channel arrives after them (notifications come in commit order). Without a connection,
   * or after {@link barrierTimeoutMs}, it resolves anyway: hints are lossy.
   */
  async barrier(): Promise<void> {
    if (!this.listening) return;
    const token = `${process.pid}.${++this.barrierCount}.${Math.random()}`;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arrived = new Promise<void>((resolve) => {
      this.barriers.set(token, resolve);
      timer = setTimeout(resolve, barrierTimeoutMs);
    });
    try {
      await this.driver.query(`SELECT pg_notify($1, $2)`, [this.channel, barrierPayload(token)]);
      await arrived;
    } finally {
      clearTimeout(timer);
      this.barriers.delete(token);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const resolve of this.barriers.values()) resolve();
    clearTimeout(this.retryTimer);
    clearTimeout(this.recoveryTimer);
    this.retryTimer = this.recoveryTimer = undefined;
    // An attempt in flight ends by itself (it sees `closed`), at most a connection timeout later.
    while (this.attempts.size > 0) await Promise.all(this.attempts);
    const listening = this.listening;
    this.listening = undefined;
    await listening?.close();
  }

  /** Remembers `attempt` as in flight until it settles (it never rejects). */
  private track(attempt: Promise<void>): Promise<void> {
    const tracked: Promise<void> = attempt.finally(() => this.attempts.delete(tracked));
    this.attempts.add(tracked);
    return tracked;
  }

  private async connect(reconnecting: boolean): Promise<void> {
    try {
      const listening = await this.driver.listen(this.channel, {
        onNotification: (payload) => this.dispatch(payload),
        onLost: (error) => this.lost(error),
      });
      if (this.closed) {
        await listening.close();
        return;
      }
      this.listening = listening;
      this.listeningSince = Date.now();
      if (reconnecting) {
        this.logger.warn('The LISTEN connection of the PostgreSQL store is back.', {});
        this.receivers.onReconnected();
        await this.recoverHints(firstRetryMs);
      }
    } catch (error) {
      this.lost(error);
    }
  }

  /**
   * Hints every topic with pending tasks as available now: what the notifications missed while the
   * connection was away cannot be more. A failed read is tried again after `retryMs` (doubling).
   */
  private async recoverHints(retryMs: number): Promise<void> {
    if (this.closed) return;
    try {
      const rows = await this.driver.query<{ topic: string }>(this.pendingTopics);
      if (this.closed) return;
      this.receivers.onHints(rows.map(({ topic }) => ({ topic, delay: 0 })));
    } catch (error) {
      if (this.closed) return;
      this.logger.warn('The PostgreSQL store could not recover the hints it missed; it tries again.', {
        error,
        retryInMs: retryMs,
      });
      clearTimeout(this.recoveryTimer);
      this.recoveryTimer = setTimeout(() => {
        this.recoveryTimer = undefined;
        void this.track(this.recoverHints(Math.min(retryMs * 2, lastRetryMs)));
      }, retryMs);
      // Background work never holds the process open; close() clears it.
      this.recoveryTimer.unref();
    }
  }

  private lost(error: unknown): void {
    this.listening = undefined;
    // The back-off starts again only after a connection that lasted: one that drops as soon as it
    // listens is retried ever more slowly, as a connection that fails is.
    if (this.listeningSince !== undefined && Date.now() - this.listeningSince >= lastRetryMs) {
      this.retryMs = firstRetryMs;
    }
    this.listeningSince = undefined;
    if (this.closed || this.retryTimer !== undefined) return;
    // A recovery still owed is done after the next reconnection.
    clearTimeout(this.recoveryTimer);
    this.recoveryTimer = undefined;
    this.logger.warn('The LISTEN connection of the PostgreSQL store was lost; reconnecting.', {
      error,
      retryInMs: this.retryMs,
    });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.track(this.connect(true));
    }, this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, lastRetryMs);
  }

  private dispatch(payload: string): void {
    let notification: StoreNotification;
    try {
      notification = parseNotification(payload);
    } catch (error) {
      this.logger.warn('The PostgreSQL store dropped a notification it could not read.', { payload, error });
      return;
    }
    switch (notification.kind) {
      case 'recorded':
        return this.receivers.onRecorded(notification.through);
      case 'barrier':
        return this.barriers.get(notification.token)?.();
      case 'hints':
        return this.receivers.onHints(notification.hints);
    }
  }
}
