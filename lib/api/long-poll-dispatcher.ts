import type { Clock, TimerHandle } from '../clock/index.js';
import type { Logger } from '../logging/index.js';
import type { ExternalTask } from '../model/index.js';
import type { ClaimRequest, ExternalTaskRepository } from '../repository/index.js';

interface Waiter {
  readonly request: ClaimRequest;
  readonly topicNames: readonly string[];
  readonly resolve: (tasks: ExternalTask[]) => void;
  readonly reject: (error: unknown) => void;
  readonly timer: TimerHandle;
  readonly removeAbortListener: () => void;
  /** A claim for this waiter is in flight; it must not end before the claim answers. */
  claiming: boolean;
  /** Its time ran out (or it was aborted) while a claim was in flight. */
  expired: boolean;
  settled: boolean;
}

function first<T>(items: Iterable<T> | undefined): T | undefined {
  if (items) for (const item of items) return item;
  return undefined;
}

/**
 * The fetches that found nothing and wait (long polling).
 *
 * State: each waiter sits in the queue of every topic it asked for, in arrival order. A topic becomes
 * *dirty* when tasks may have become available on it — the repository announced a new task, or a lock
 * of the topic reached its expiry time (one timer for the earliest expiry of all waited-on topics). A
 * single drain loop takes dirty topics one by one and makes one claim for the topic's first waiter:
 * with tasks, the waiter is answered (and if it got all it asked for, the topic stays dirty for the
 * next); with none, it keeps waiting for the rest of its time. (With a visibility filter, a waiter that
 * got less than it asked for may have been hidden tasks another can see, so the next waiter is tried.)
 * So one new task wakes one waiter, and a waiting poll costs nothing until it is woken. When its time runs out, its signal aborts or the
 * dispatcher closes, a waiter answers `[]` and leaves no timer or listener behind.
 */
export class LongPollDispatcher {
  private readonly waitersByTopic = new Map<string, Set<Waiter>>();
  /** For waited-on topics only: when the earliest known lock of the topic expires. */
  private readonly dueAt = new Map<string, number>();
  private readonly dirty = new Set<string>();
  private draining = false;
  private wakeTimer: TimerHandle;
  private wakeAt: number | undefined;
  private announcements = 0;

  constructor(
    private readonly repository: ExternalTaskRepository,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /**
   * Moves with every availability announcement. A fetch reads it before its first claim and hands it to
   * {@link wait}, so that a task announced between that claim and the wait is not missed.
   */
  get announcementCount(): number {
    return this.announcements;
  }

  /** Whether any fetch is waiting (for tests and diagnostics). */
  get isIdle(): boolean {
    return this.waitersByTopic.size === 0 && this.wakeTimer === undefined;
  }

  /** Waits up to `timeoutMs` for tasks of `request`; resolves `[]` when time runs out or `signal` aborts. */
  wait(
    request: ClaimRequest,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    announcementCountBeforeClaim: number,
  ): Promise<ExternalTask[]> {
    return new Promise((resolve, reject) => {
      const topicNames = request.topics.map((topic) => topic.topicName);
      const onAbort = (): void => this.expire(waiter);
      const waiter: Waiter = {
        request,
        topicNames,
        resolve,
        reject,
        timer: this.clock.setTimeout(onAbort, timeoutMs),
        removeAbortListener: () => signal?.removeEventListener('abort', onAbort),
        claiming: false,
        expired: false,
        settled: false,
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted) return onAbort();
      for (const topicName of topicNames) {
        let waiters = this.waitersByTopic.get(topicName);
        if (!waiters) {
          waiters = new Set();
          this.waitersByTopic.set(topicName, waiters);
        }
        waiters.add(waiter);
      }
      if (this.announcements !== announcementCountBeforeClaim) this.markDirty(topicNames);
      void this.learnDueTimes(topicNames);
    });
  }

  /** Tasks of `topicName` become available at `at` (ms since the epoch; now or earlier means now). */
  announceAvailable(topicName: string, at: number): void {
    this.announcements++;
    if (!this.waitersByTopic.has(topicName)) return;
    if (at <= this.clock.now()) this.markDirty([topicName]);
    else this.setDue(topicName, at);
  }

  /** Answers every waiting fetch with `[]`. */
  close(): void {
    for (const waiters of [...this.waitersByTopic.values()]) {
      for (const waiter of waiters) this.expire(waiter);
    }
  }

  private markDirty(topicNames: readonly string[]): void {
    for (const topicName of topicNames) this.dirty.add(topicName);
    // Drain on a later microtask: never inside the repository's announcement, and a burst of tasks
    // announced together is claimed together.
    queueMicrotask(() => void this.drain());
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      for (let topicName = first(this.dirty); topicName !== undefined; topicName = first(this.dirty)) {
        this.dirty.delete(topicName);
        await this.wakeWaitersOf(topicName);
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * Claims for the topic's waiters in arrival order. Normally the first waiter's claim settles it: with
   * all it asked for, the topic stays dirty for the next waiter; with less, nothing else is available.
   * But when a visibility filter may have hidden tasks from a waiter, the next waiter is tried too, since
   * it may see them.
   */
  private async wakeWaitersOf(topicName: string): Promise<void> {
    for (const waiter of [...(this.waitersByTopic.get(topicName) ?? [])]) {
      if (waiter.settled) continue;
      const claimed = await this.claimFor(waiter);
      if (claimed < 0 || claimed === waiter.request.maxTasks || !waiter.request.isVisible) return;
    }
  }

  /** One claim for `waiter`; answers how many tasks it got (-1 when the store failed). */
  private async claimFor(waiter: Waiter): Promise<number> {
    waiter.claiming = true;
    let tasks: ExternalTask[];
    try {
      tasks = await this.repository.claim(waiter.request);
    } catch (error) {
      waiter.claiming = false;
      this.settle(waiter, () => waiter.reject(error));
      return -1;
    }
    waiter.claiming = false;
    // All it asked for: there may be more for the next waiter.
    if (tasks.length === waiter.request.maxTasks) {
      for (const topicName of waiter.topicNames) this.dirty.add(topicName);
    }
    if (tasks.length > 0 || waiter.expired) this.settle(waiter, () => waiter.resolve(tasks));
    // The claim took every task due so far; learn when the next lock of these topics expires.
    void this.learnDueTimes(waiter.topicNames);
    return tasks.length;
  }

  private expire(waiter: Waiter): void {
    if (waiter.claiming) waiter.expired = true;
    else this.settle(waiter, () => waiter.resolve([]));
  }

  private settle(waiter: Waiter, answer: () => void): void {
    if (waiter.settled) return;
    waiter.settled = true;
    this.clock.clearTimeout(waiter.timer);
    waiter.removeAbortListener();
    for (const topicName of waiter.topicNames) {
      const waiters = this.waitersByTopic.get(topicName);
      waiters?.delete(waiter);
      if (waiters?.size === 0) {
        this.waitersByTopic.delete(topicName);
        this.dueAt.delete(topicName);
        this.dirty.delete(topicName);
      }
    }
    this.armWakeTimer();
    answer();
  }

  private async learnDueTimes(topicNames: readonly string[]): Promise<void> {
    await Promise.all(
      topicNames.map(async (topicName) => {
        if (!this.waitersByTopic.has(topicName)) return;
        try {
          const at = await this.repository.nextAvailableAt([topicName]);
          if (at && this.waitersByTopic.has(topicName)) this.setDue(topicName, at.getTime());
        } catch (error) {
          this.logger.error('Could not read when the next lock expires; long polls wake on new tasks only.', {
            topicName,
            error,
          });
        }
      }),
    );
  }

  private setDue(topicName: string, at: number): void {
    const known = this.dueAt.get(topicName);
    if (known !== undefined && known <= at) return;
    this.dueAt.set(topicName, at);
    this.armWakeTimer();
  }

  private armWakeTimer(): void {
    let earliest: number | undefined;
    for (const at of this.dueAt.values()) if (earliest === undefined || at < earliest) earliest = at;
    if (earliest === this.wakeAt) return;
    if (this.wakeTimer !== undefined) this.clock.clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    this.wakeAt = earliest;
    if (earliest !== undefined)
      this.wakeTimer = this.clock.setTimeout(() => this.wake(), Math.max(0, earliest - this.clock.now()));
  }

  private wake(): void {
    this.wakeTimer = undefined;
    this.wakeAt = undefined;
    const now = this.clock.now();
    const due: string[] = [];
    for (const [topicName, at] of this.dueAt) if (at <= now) due.push(topicName);
    for (const topicName of due) this.dueAt.delete(topicName);
    this.armWakeTimer();
    this.markDirty(due);
  }
}
