import type { Clock, TimerHandle } from '../clock/index.js';
import type { Logger } from '../logging/index.js';
import type { ExternalTask } from '../model/index.js';
import type {
  AvailabilityHint,
  ClaimRequest,
  ExternalTaskRepository,
  TaskScope,
} from '../repository/index.js';
import { scopeCovers } from '../repository/task-scope.js';

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
 * *dirty* when tasks may have become available on it — the repository's availability hint says so now,
 * or the time a hint (or the repository, asked after a claim) gave for the topic has come (one timer for
 * the earliest such time of all waited-on topics; times are relative to the store's clock, so a process
 * clock that differs from the store's does not make it wake early or late). A single drain loop takes
 * dirty topics one by one and claims for the topic's waiters in arrival order: a waiter that gets tasks
 * is answered (and if it got all it asked for, the next waiter is tried); one that gets fewer than it
 * asked for has taken everything its scope covers, so a later waiter whose scope that one covers is
 * skipped, and only waiters with other scopes are tried. So one new task wakes one waiter, no task
 * waits while a waiter whose scope covers it waits, and a waiting poll costs nothing until it is woken.
 * When its time runs out, its signal aborts or the dispatcher closes, a waiter answers `[]` and leaves
 * no timer or listener behind.
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
      void this.learnDueTimes(waiter);
    });
  }

  /** The repository's availability hints: a topic's tasks become available now, or after a delay. */
  hint(hints: readonly AvailabilityHint[]): void {
    this.announcements++;
    for (const { topic, delay } of hints) {
      if (!this.waitersByTopic.has(topic)) continue;
      if (delay <= 0) this.markDirty([topic]);
      else this.setDue(topic, this.clock.now() + delay);
    }
  }

  /** Answers every waiting fetch with `[]`. */
  close(): void {
    for (const waiters of [...this.waitersByTopic.values()]) {
      for (const waiter of waiters) this.expire(waiter);
    }
  }

  private markDirty(topicNames: readonly string[]): void {
    for (const topicName of topicNames) this.dirty.add(topicName);
    // Drain on a later promise job: never inside the repository's announcement, and a burst of tasks
    // announced together is claimed together. A promise job, not queueMicrotask: fake timers fake that
    // (sinon's default set does), and a long poll must not wait for a test to tick the clock.
    void Promise.resolve().then(() => this.drain());
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
   * Claims for the topic's waiters in arrival order. A waiter that got all it asked for leaves the topic
   * dirty for the next. One that got less took all its scope covers: waiters whose scope it covers would
   * find nothing and are skipped; a waiter with a scope it does not cover may find what it could not see.
   */
  private async wakeWaitersOf(topicName: string): Promise<void> {
    const exhausted: (TaskScope | undefined)[] = [];
    const claimedFor = new Set<Waiter>();
    for (const waiter of [...(this.waitersByTopic.get(topicName) ?? [])]) {
      if (waiter.settled) continue;
      const scope = waiter.request.scope;
      if (exhausted.some((covering) => scopeCovers(covering, scope))) continue;
      claimedFor.add(waiter);
      const claimed = await this.claimFor(waiter);
      // A failed claim answered its waiter with the error; the next waiter tries on its own.
      if (claimed === 'failed') continue;
      if (claimed === waiter.request.maxTasks) break;
      exhausted.push(scope);
      if (scope === undefined) break;
    }
    // Still dirty (a waiter got all it asked for): the next round claims for the rest, and relearns then.
    if (!this.dirty.has(topicName)) await this.relearnSkipped(topicName, claimedFor);
  }

  /**
   * The wake time of `topicName` was used up by this round. Waiters of the topic that no claim of the
   * round was made for (skipped, or after a waiter that got all it asked for) learn their next time
   * again — one question per distinct scope — so a later lock expiry or retry is not missed.
   */
  private async relearnSkipped(topicName: string, claimedFor: ReadonlySet<Waiter>): Promise<void> {
    const asked: (TaskScope | undefined)[] = [];
    const learning: Promise<void>[] = [];
    for (const waiter of this.waitersByTopic.get(topicName) ?? []) {
      if (waiter.settled || claimedFor.has(waiter)) continue;
      const scope = waiter.request.scope;
      if (asked.some((known) => scopeCovers(known, scope) && scopeCovers(scope, known))) continue;
      asked.push(scope);
      learning.push(this.learnDueTimes(waiter, [topicName]));
    }
    await Promise.all(learning);
  }

  /** One claim for `waiter`; answers how many tasks it got, or `'failed'` when the store failed. */
  private async claimFor(waiter: Waiter): Promise<number | 'failed'> {
    waiter.claiming = true;
    let tasks: ExternalTask[];
    try {
      tasks = await this.repository.claim(waiter.request);
    } catch (error) {
      waiter.claiming = false;
      this.settle(waiter, () => waiter.reject(error));
      return 'failed';
    }
    waiter.claiming = false;
    // All it asked for: there may be more for the next waiter.
    if (tasks.length === waiter.request.maxTasks) {
      for (const topicName of waiter.topicNames) this.dirty.add(topicName);
    }
    if (tasks.length > 0 || waiter.expired) this.settle(waiter, () => waiter.resolve(tasks));
    // The claim took every task due so far; learn when the next lock of these topics expires.
    if (!waiter.settled) void this.learnDueTimes(waiter);
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

  /**
   * Asks the store when a task `waiter` may take becomes available on each of its topics: now (a task
   * that became available after its last claim, e.g. a retry that came due meanwhile) marks the topic
   * dirty; later sets the topic's wake time.
   */
  private async learnDueTimes(waiter: Waiter, topicNames = waiter.topicNames): Promise<void> {
    await Promise.all(
      topicNames.map(async (topicName) => {
        if (!this.waitersByTopic.has(topicName)) return;
        try {
          const delay = await this.repository.msUntilNextAvailable([topicName], waiter.request.scope);
          if (delay === undefined || !this.waitersByTopic.has(topicName)) return;
          if (delay === 0) this.markDirty([topicName]);
          else this.setDue(topicName, this.clock.now() + delay);
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

  /**
   * The timer fired: the topics it was set for are due, and any others whose time has come. Judged by
   * the time the timer was set for as well as by the clock, so that a process clock that stepped back
   * meanwhile does not push the wake-up back by the size of the step.
   */
  private wake(): void {
    const firedFor = this.wakeAt ?? -Infinity;
    this.wakeTimer = undefined;
    this.wakeAt = undefined;
    const dueBy = Math.max(firedFor, this.clock.now());
    const due: string[] = [];
    for (const [topicName, at] of this.dueAt) if (at <= dueBy) due.push(topicName);
    for (const topicName of due) this.dueAt.delete(topicName);
    this.armWakeTimer();
    this.markDirty(due);
  }
}
