import type { Logger } from '../logging/index.js';
import type { AvailabilityHint } from '../repository/index.js';
import type { Driver, Listening } from './driver/driver.js';

/** What the store's notifications mean to it. */
export interface NotificationReceivers {
  /** `h…`: availability hints of one statement. */
  onHints(hints: readonly AvailabilityHint[]): void;
  /** `c`: a statement recorded changes that still need positions. */
  onChangesRecorded(): void;
  /** `s`: a sequencer gave positions. */
  onSequenced(): void;
  /** The connection was lost and is back: notifications in between may be lost. */
  onReconnected(): void;
}

/** Backoff of reconnection attempts, in ms: doubling from the first to the last. */
const firstRetryMs = 100;
const lastRetryMs = 5000;
/** How long a {@link NotificationListener.barrier} waits for its notification at most. */
const barrierTimeoutMs = 2000;

/**
 * The store's one LISTEN connection. States: idle → connecting → listening; a lost connection goes back
 * to connecting after a backoff (100 ms doubling up to 5 s), re-LISTENs and reports `onReconnected`, so
 * that the feed re-reads from its positions; closed is final. Notifications are parsed here and handed
 * to the receivers; a malformed one is logged and dropped.
 */
export class NotificationListener {
  private listening: Listening | undefined;
  private readonly barriers = new Map<string, () => void>();
  private barrierCount = 0;
  private started: Promise<void> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private retryMs = firstRetryMs;
  private closed = false;

  constructor(
    private readonly driver: Driver,
    private readonly channel: string,
    private readonly receivers: NotificationReceivers,
    private readonly logger: Logger,
  ) {}

  /**
   * Starts listening once; resolves after the first attempt (a failed one is logged and retried in the
   * background: hints are lossy, and the feed has its safety re-check).
   */
  start(): Promise<void> {
    this.started ??= this.connect(false);
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
      await this.driver.query(`SELECT pg_notify($1, $2)`, [this.channel, `b${token}`]);
      await arrived;
    } finally {
      clearTimeout(timer);
      this.barriers.delete(token);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const resolve of this.barriers.values()) resolve();
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.started;
    const listening = this.listening;
    this.listening = undefined;
    await listening?.close();
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
      this.retryMs = firstRetryMs;
      if (reconnecting) this.receivers.onReconnected();
    } catch (error) {
      this.lost(error);
    }
  }

  private lost(error: unknown): void {
    this.listening = undefined;
    if (this.closed || this.retryTimer !== undefined) return;
    this.logger.warn('The LISTEN connection of the PostgreSQL store was lost; reconnecting.', {
      error,
      retryInMs: this.retryMs,
    });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect(true);
    }, this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, lastRetryMs);
  }

  private dispatch(payload: string): void {
    if (payload === 'c') return this.receivers.onChangesRecorded();
    if (payload === 's') return this.receivers.onSequenced();
    if (payload.startsWith('b')) return this.barriers.get(payload.slice(1))?.();
    try {
      if (!payload.startsWith('h')) throw new Error('unknown notification');
      const hints = (JSON.parse(payload.slice(1)) as [string, number, number][]).map(
        ([topic, delay, count]) => ({ topic, delay, count }),
      );
      this.receivers.onHints(hints);
    } catch (error) {
      this.logger.warn('The PostgreSQL store dropped a notification it could not read.', { payload, error });
    }
  }
}
