import type { Clock, TimerHandle } from '../clock/index.js';
import type { Logger } from '../logging/index.js';
import type { AvailabilityWatch, ChangeFeed } from '../repository/index.js';

/** The longest wait between two attempts to attach. */
const maxRetryDelay = 30_000;

/**
 * The facade's link to its store: the change feed and the availability watch, opened together. When
 * opening fails (a store that cannot be reached), whatever did open is closed again, the failure is
 * logged, and a new attempt follows after a back-off (1 s, doubling, at most 30 s) until one succeeds or
 * the link is closed. States: attaching → attached, or attaching → failed → (back-off) → attaching …;
 * any → closed.
 */
export class RepositoryAttachment {
  private attempt: Promise<void>;
  private links: { readonly feed: ChangeFeed; readonly watch: AvailabilityWatch } | undefined;
  private retryTimer: TimerHandle;
  private retryDelay = 1000;
  private closed = false;

  constructor(
    private readonly open: () => readonly [Promise<ChangeFeed>, Promise<AvailabilityWatch>],
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.attempt = this.connect();
  }

  /** Whether the feed and the watch are open. */
  get isAttached(): boolean {
    return this.links !== undefined;
  }

  /** Resolves once attached; rejects with the cause when the current attempt failed (a retry follows). */
  ready(): Promise<void> {
    return this.isAttached ? Promise.resolve() : this.attempt;
  }

  /** Closes the feed and the watch (or whatever opens later) and stops retrying. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer !== undefined) this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.attempt.catch(() => undefined);
    const links = this.links;
    this.links = undefined;
    if (links) await Promise.all([links.feed.close(), links.watch.close()]);
  }

  private async connect(): Promise<void> {
    const [feed, watch] = await Promise.allSettled(this.open());
    if (feed.status === 'fulfilled' && watch.status === 'fulfilled') {
      this.links = { feed: feed.value, watch: watch.value };
      this.retryDelay = 1000;
      return;
    }
    await Promise.all([
      feed.status === 'fulfilled' && feed.value.close(),
      watch.status === 'fulfilled' && watch.value.close(),
    ]);
    const error: unknown = feed.status === 'rejected' ? feed.reason : (watch as PromiseRejectedResult).reason;
    if (!this.closed) {
      this.logger.error(
        `Could not attach to the repository (no events, no wake-ups); trying again in ${this.retryDelay} ms.`,
        { error },
      );
      this.retryTimer = this.clock.setTimeout(() => {
        this.retryTimer = undefined;
        this.attempt = this.connect();
        this.attempt.catch(() => undefined);
      }, this.retryDelay);
      this.retryDelay = Math.min(this.retryDelay * 2, maxRetryDelay);
    }
    throw error;
  }
}
