import type { Logger } from '../logging/index.js';
import type { Driver } from './driver/driver.js';
import { finalTaskSweepBatch } from './sql/prune-final-tasks.js';

/** How often, in real ms, the final-task retention deletes what ran out. */
const finalTaskSweepMs = 60_000;

/**
 * The PostgreSQL store's final-task retention: once a minute, deletes the final tasks that ended more
 * than the retention ago, a batch at a time, until none is left or the store closes. A failed sweep is
 * logged and tried again at the next minute. Its timer does not keep the process alive.
 */
export class FinalTaskSweep {
  private timer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;

  constructor(
    private readonly driver: Driver,
    private readonly statement: string,
    private readonly now: () => number | null,
    private readonly retention: number,
    private readonly logger: Logger,
  ) {}

  /** Starts sweeping (once; nothing for a retention of Infinity or once stopped). */
  start(): void {
    if (this.retention === Infinity || this.timer !== undefined || this.stopped) return;
    this.timer = setInterval(() => {
      this.sweep().catch((error: unknown) =>
        this.logger.warn('The final-task retention of the PostgreSQL store failed; it tries again.', {
          error,
        }),
      );
    }, finalTaskSweepMs).unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async sweep(): Promise<void> {
    let deleted: number;
    do {
      const [row] = await this.driver.query<{ count: number }>(this.statement, [this.now(), this.retention]);
      deleted = row?.count ?? 0;
    } while (deleted === finalTaskSweepBatch && !this.stopped);
  }
}
