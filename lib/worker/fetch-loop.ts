import type { ExternalTaskService } from '../api/index.js';
import type { ExternalTask } from '../model/index.js';
import { abortableSleep } from '../clock/index.js';
import type { Backoff } from './backoff.js';
import { quote } from './failed-run-log.js';
import type { StateWatch } from './state-watch.js';
import type { AnnounceWorkerEvent } from './worker-events.js';
import { WorkerHaltedError } from './worker-halted-error.js';
import type { ResolvedWorkerOptions } from './worker-options.js';

/** What a {@link FetchLoop} needs of its worker. */
export interface FetchLoopHost {
  readonly api: ExternalTaskService;
  readonly options: ResolvedWorkerOptions;
  readonly announce: AnnounceWorkerEvent;
  readonly backoff: Backoff;
  /** Announces every change of {@link room}; the loop also announces its own fetches on it. */
  readonly watch: StateWatch;
  /** How many more tasks the worker can take now: free slots and free places in its buffer. */
  room(): number;
  /**
   * Takes the tasks a fetch brought, as they arrive; answers those it did not take (the worker stopped
   * meanwhile), which the loop hands back.
   */
  accept(tasks: readonly ExternalTask[]): ExternalTask[];
  /** Hands back, with `unlock`, tasks that arrived after the worker began to stop. */
  release(tasks: readonly ExternalTask[]): Promise<void>;
  /** Stops the worker, because no fetch can ever succeed. */
  halt(error: WorkerHaltedError): void;
}

/**
 * The worker's fetching: it fetches ahead, so that slots do not wait a round trip each for their next
 * task. It fetches once the room for tasks (free slots and buffer places, less what fetches in flight
 * asked for) reaches the refill threshold, and asks for that room, up to `maxTasks`.
 *
 * Two modes, switched by what the last answer said about the store:
 * - *lean* (at start, and after an answer with fewer tasks than asked, or a failure): one fetch at a
 *   time, a long poll, and the loop waits for its answer — as a worker that found the queue empty should.
 * - *fanning out* (after an answer with every task asked for: more are likely waiting): the loop does not
 *   wait for answers; it fetches again whenever the room reaches the threshold, so several fetches are in
 *   flight when `maxTasks` is smaller than the room (at most `concurrency`). Only one of them long-polls;
 *   the others ask with no wait, so an emptied queue is noticed at once and the worker goes back to lean.
 *
 * Failures back off (a refused fetch halts the worker); an empty long poll waits `pollInterval` from its
 * start. {@link run} resolves once its signal aborted and no fetch of it is in flight.
 */
export class FetchLoop {
  /** The tasks that fetches in flight asked for. */
  private asked = 0;
  /** The fetches in flight. */
  private fetches = 0;
  /** The fetches the loop did not wait for, so that {@link run} can. */
  private readonly unawaited = new Set<Promise<void>>();
  private fanningOut = false;
  /** The wait a fetch called for (a failure's back-off, an empty long poll's interval), still to be waited. */
  private owedDelay: number | undefined;

  constructor(private readonly host: FetchLoopHost) {}

  /** Fetches until `signal` aborts; resolves once no fetch is in flight. */
  async run(signal: AbortSignal): Promise<void> {
    this.fanningOut = false;
    this.owedDelay = undefined;
    while (!signal.aborted) {
      let delay: number | undefined;
      try {
        delay = await this.round(signal);
      } catch (error) {
        // Only a bug gets here; the loop must outlive it all the same.
        delay = this.host.backoff.next();
        this.host.options.logger.error('The poll loop failed unexpectedly; it carries on.', { error });
        this.host.announce({
          name: 'worker:error',
          payload: { workerId: this.host.options.workerId, error, context: { type: 'loop' } },
        });
      }
      // A round that started no task always waits on the timer queue, even for 0 ms: with zero delays
      // and an API that answers at once, the loop must still let timers and I/O run.
      if (delay !== undefined) await abortableSleep(this.host.options.clock, Math.max(0, delay), signal);
    }
    await Promise.all(this.unawaited);
  }

  /** The room that makes a fetch worth a call: a share of the worker's capacity, at least one task. */
  private get threshold(): number {
    const { concurrency, bufferSize, refillThreshold } = this.host.options;
    return Math.max(1, Math.ceil((concurrency + bufferSize) * refillThreshold));
  }

  private mayFetch(): boolean {
    if (this.host.room() - this.asked < this.threshold) return false;
    if (this.fetches === 0) return true;
    return this.fanningOut && this.owedDelay === undefined && this.fetches < this.host.options.concurrency;
  }

  /**
   * Waits until a fetch may start and starts it; answers how long to wait before the next round, or
   * `undefined` to go on at once. Lean, it waits for the fetch's answer; fanning out, it does not.
   */
  private async round(signal: AbortSignal): Promise<number | undefined> {
    while (!this.mayFetch()) {
      if (signal.aborted) return undefined;
      await this.host.watch.until(() => this.mayFetch(), signal);
    }
    if (signal.aborted) return undefined;
    if (this.owedDelay === undefined) {
      const fetching = this.fetch(signal);
      if (this.fanningOut) {
        this.unawaited.add(fetching);
        const settled = (): void => void this.unawaited.delete(fetching);
        fetching.then(settled, settled);
        return undefined;
      }
      await fetching;
    }
    const delay = this.owedDelay;
    this.owedDelay = undefined;
    return delay;
  }

  /** One fetch and the hand-over of its tasks; records the wait it calls for in {@link owedDelay}. */
  private async fetch(signal: AbortSignal): Promise<void> {
    const { api, options, watch } = this.host;
    const { clock, identity, workerId, topics, lockDuration, maxTasks, longPollingTimeout } = options;
    const ask = Math.min(maxTasks, this.host.room() - this.asked);
    const longPoll = this.fetches === 0;
    const startedAt = clock.now();
    this.asked += ask;
    this.fetches++;
    let tasks: ExternalTask[];
    try {
      tasks = await api.fetchAndLock(identity, {
        workerId,
        topics: topics.map((topicName) => ({ topicName, lockDuration })),
        maxTasks: ask,
        longPollingTimeout: longPoll ? longPollingTimeout : 0,
        signal,
      });
    } catch (error) {
      this.fanningOut = false;
      if (signal.aborted) return;
      const refused = WorkerHaltedError.fetchRefused(error);
      if (refused) {
        this.host.halt(refused);
        return;
      }
      const retryInMs = this.host.backoff.next();
      this.owe(retryInMs);
      const said = quote(error instanceof Error ? error.message : String(error));
      options.logger.warn(`Fetching external tasks failed: ${said} Retrying in ${retryInMs} ms.`, {
        workerId,
      });
      options.logger.debug?.('Fetching external tasks failed.', { workerId, error });
      this.host.announce({ name: 'worker:fetchFailed', payload: { workerId, error, retryInMs } });
      return;
    } finally {
      this.asked -= ask;
      this.fetches--;
      watch.changed();
    }
    this.host.backoff.reset();
    this.fanningOut = tasks.length >= ask;
    if (signal.aborted) {
      await this.host.release(tasks);
      return;
    }
    this.host.announce({ name: 'worker:fetched', payload: { workerId, count: tasks.length } });
    if (tasks.length === 0 && api.isClosed === true) {
      this.host.halt(WorkerHaltedError.apiClosed());
      return;
    }
    const notTaken = this.host.accept(tasks);
    if (notTaken.length > 0) await this.host.release(notTaken);
    // A fetch that did not wait for tasks found the queue empty: the next one long-polls, and at once.
    if (tasks.length === 0 && longPoll) this.owe(options.pollInterval - (clock.now() - startedAt));
  }

  private owe(delay: number): void {
    this.owedDelay = Math.max(delay, this.owedDelay ?? 0);
  }
}
