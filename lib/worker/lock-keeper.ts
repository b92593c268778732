import type { ExternalTaskService } from '../api/index.js';
import type { Clock, TimerHandle } from '../clock/index.js';
import type { Logger } from '../logging/index.js';
import type { ExternalTask, Identity } from '../model/index.js';
import type { AnnounceWorkerEvent } from './worker-events.js';

/** The statuses of an `extendLock` failure that mean the task is no longer the worker's (spec §3.2). */
const lockLostStatuses: ReadonlySet<unknown> = new Set([404, 410, 423]);

/**
 * Whether `error` says the lock is gone for good: 404 (no such task), 410 (already has an outcome) or 423
 * (another worker holds it). Reads `status`, so errors of any transport qualify.
 */
export function isLockLost(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    lockLostStatuses.has((error as { status?: unknown }).status)
  );
}

/**
 * Whether `error` says the engine cancelled the task: a 410 whose `state` is `cancelled`, as an extension
 * answers it and as the worker makes it when the API announces a cancellation. Business as usual.
 */
export function isCancellation(error: unknown): boolean {
  return isLockLost(error) && (error as { state?: unknown }).state === 'cancelled';
}

/** What a {@link LockKeeper} needs. */
export interface LockKeeperOptions {
  readonly api: ExternalTaskService;
  readonly identity: Identity | undefined;
  readonly workerId: string;
  readonly task: ExternalTask;
  /**
   * When the task's lock began, by `clock`: the first extension is due `interval` ms after it (at once if
   * that has passed), not `interval` ms after the handler started, which a task's wait for a slot delays.
   */
  readonly lockedSince: number;
  readonly lockDuration: number;
  readonly interval: number;
  readonly clock: Clock;
  readonly announce: AnnounceWorkerEvent;
  readonly logger: Logger;
  /** Called at most once, when an extension answers 404, 410 or 423; the keeper has stopped by then. */
  readonly onLockLost: (error: unknown) => void;
}

/**
 * Keeps the lock of one running task: `interval` ms after the lock began, then every `interval` ms
 * (counted from when the previous extension answered, so two never overlap) it extends the lock to now +
 * `lockDuration`. A lost lock stops it and
 * calls `onLockLost`; any other failure emits `worker:task:extendFailed` and the next interval tries again.
 * {@link stop} ends it for good and waits for an extension still in flight, so it never outlives its task.
 */
export class LockKeeper {
  // A TimerHandle is `unknown`; `undefined` means no timer is set.
  private timer: TimerHandle = undefined;
  private stopped = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: LockKeeperOptions) {}

  /** Schedules the first extension, `interval` ms after the lock began. */
  start(): void {
    const { lockedSince, interval, clock } = this.options;
    this.schedule(Math.max(0, lockedSince + interval - clock.now()));
  }

  /**
   * Extends now to now + `duration` ms and restarts the cadence (the handler's manual `extendLock`).
   * Rejects with the API's error; after {@link stop}, rejects without calling the API.
   */
  extendNow(duration: number = this.options.lockDuration): Promise<void> {
    if (this.stopped) {
      return Promise.reject(
        new Error(`The lock of external task ${this.options.task.id} is no longer kept.`),
      );
    }
    return this.extend(duration);
  }

  /** Stops for good: no further extension; resolves once an extension in flight has answered. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    await Promise.all(this.inFlight);
  }

  private schedule(delay: number = this.options.interval): void {
    this.clearTimer();
    if (this.stopped) return;
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = undefined;
      this.extend(this.options.lockDuration).catch(() => {
        // Already handled in extend: an event, a log line, or onLockLost.
      });
    }, delay);
  }

  private clearTimer(): void {
    if (this.timer === undefined) return;
    this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private extend(duration: number): Promise<void> {
    const { api, identity, workerId, task, announce, logger } = this.options;
    this.clearTimer();
    // Through a promise executor, so that a transport throwing synchronously still ends up in the handlers.
    const attempt = new Promise<void>((resolve) =>
      resolve(api.extendLock(identity, workerId, task.id, duration)),
    ).then(
      () => {
        if (this.stopped) return;
        announce({ name: 'worker:task:extended', payload: { workerId, task } });
        this.schedule();
      },
      (error: unknown) => {
        if (this.stopped) throw error;
        if (isLockLost(error)) {
          this.stopped = true;
          // The engine cancelling a task is business as usual; `worker:task:aborted` tells who wants to know.
          if (!isCancellation(error)) {
            logger.warn('The worker lost the lock of an external task; its handler is aborted.', {
              externalTaskId: task.id,
              error,
            });
          }
          this.options.onLockLost(error);
        } else {
          logger.warn('Extending the lock of an external task failed; trying again at the next interval.', {
            externalTaskId: task.id,
            error,
          });
          announce({ name: 'worker:task:extendFailed', payload: { workerId, task, error } });
          this.schedule();
        }
        throw error;
      },
    );
    const settled = attempt.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.add(settled);
    void settled.then(() => this.inFlight.delete(settled));
    return attempt;
  }
}
