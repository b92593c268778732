import { setMaxListeners } from 'node:events';
import { requireServiceOperations, type ExternalTaskService } from '../api/index.js';
import { GoneError } from '../errors/index.js';
import { ContainedEventEmitter } from '../events/index.js';
import type { ExternalTask } from '../model/index.js';
import type { ExternalTaskWorker, WorkerState } from './external-task-worker.js';
import { abortableSleep } from '../clock/index.js';
import { Backoff } from './backoff.js';
import type { FetchedTask } from './fetched-task.js';
import { FetchLoop } from './fetch-loop.js';
import { StateWatch } from './state-watch.js';
import { TaskAbortedError } from './task-aborted-error.js';
import { TaskBuffer } from './task-buffer.js';
import { TaskRun } from './task-run.js';
import { TaskSlots } from './task-slots.js';
import type { AnnounceWorkerEvent, ExternalTaskWorkerEvents } from './worker-events.js';
import type { WorkerHaltedError } from './worker-halted-error.js';
import { WorkerStatsCounter, type WorkerStats } from './worker-stats.js';
import {
  resolveWorkerOptions,
  type ExternalTaskWorkerOptions,
  type ResolvedWorkerOptions,
} from './worker-options.js';

/** A listener of the API's `task:cancelled` event. */
type CancellationListener = (event: { task: ExternalTask }) => void;

/**
 * The cancellation announcements of a service that makes them, as the in-process {@link ExternalTaskApi}
 * does with its `events`. A capability read by duck typing: remote clients need not have it.
 */
interface CancellationEvents {
  on(event: 'task:cancelled', listener: CancellationListener): unknown;
  off(event: 'task:cancelled', listener: CancellationListener): unknown;
}

function cancellationEventsOf(api: ExternalTaskService): CancellationEvents | undefined {
  const events = (api as { events?: Partial<CancellationEvents> | null }).events;
  return typeof events?.on === 'function' && typeof events.off === 'function'
    ? (events as CancellationEvents)
    : undefined;
}

/**
 * What {@link ExternalTaskWorker} constructs (its state machine and members are described there): the
 * worker over any service, whose construct signatures type the records by the service's topic map.
 */
export class TaskWorker implements ExternalTaskWorker {
  readonly events: ContainedEventEmitter<ExternalTaskWorkerEvents>;
  readonly workerId: string;

  private readonly options: ResolvedWorkerOptions;
  private readonly watch = new StateWatch();
  private readonly slots: TaskSlots;
  private readonly buffer: TaskBuffer;
  private readonly fetchLoop: FetchLoop;
  private readonly backoff: Backoff;
  private readonly cancellations: CancellationEvents | undefined;
  private readonly counter = new WorkerStatsCounter();
  /** The hand-backs of expired buffered tasks still on their way: `stop()` waits for them. */
  private readonly handingBack = new Set<Promise<void>>();
  /** The runs whose handler has not settled yet, by task id. */
  private readonly runs = new Map<string, TaskRun>();
  private currentState: WorkerState = 'idle';
  private loopController: AbortController | undefined;
  private loopDone: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;
  /** Why the worker halted by itself in its current or last run, if it did. */
  private halted: WorkerHaltedError | undefined;
  /** Who awaits {@link onStopped}. */
  private readonly stopWaiters: ((halted: WorkerHaltedError | undefined) => void)[] = [];
  /** What the last call of `start()` or `stop()` asked for: it wins over the calls before it. */
  private wanted: 'running' | 'stopped' = 'stopped';

  /** See {@link ExternalTaskWorkerConstructor}. */
  constructor(
    private readonly api: ExternalTaskService,
    options: ExternalTaskWorkerOptions,
  ) {
    requireServiceOperations('ExternalTaskWorker', api);
    this.options = resolveWorkerOptions(options);
    this.workerId = this.options.workerId;
    const { logger } = this.options;
    this.events = new ContainedEventEmitter((event, error) =>
      logger.error(`A listener of ${event} threw; the worker carries on.`, { error }),
    );
    this.slots = new TaskSlots(this.options.concurrency, this.watch, () => this.startBuffered());
    this.buffer = new TaskBuffer(
      this.options.bufferSize,
      this.options.maxBufferWait,
      this.options.clock,
      this.onBufferExpired,
    );
    this.backoff = new Backoff(this.options.backoff);
    this.fetchLoop = new FetchLoop({
      api,
      options: this.options,
      announce: this.announce,
      backoff: this.backoff,
      watch: this.watch,
      room: () => this.room(),
      accept: (tasks) => this.accept(tasks),
      release: (tasks) => this.release(tasks),
      halt: (error) => this.halt(error),
    });
    this.cancellations = cancellationEventsOf(api);
  }

  stats(): WorkerStats {
    return this.counter.snapshot();
  }

  /** Counts `event` in the stats, then emits it. Handed to the task runs and their lock keepers. */
  private readonly announce: AnnounceWorkerEvent = (event) => {
    this.counter.count(event);
    this.events.emit(event.name, event.payload);
  };

  get state(): WorkerState {
    return this.currentState;
  }

  get running(): number {
    return this.runs.size;
  }

  start(): Promise<void> {
    this.wanted = 'running';
    if (this.currentState === 'running') return Promise.resolve();
    if (this.stopping)
      return this.stopping.then(() => (this.wanted === 'running' ? this.start() : undefined));
    const controller = new AbortController();
    // Each fetch in flight (up to `concurrency` of them) and each layer of its transport listen to this
    // signal, and every listener goes when its fetch ends: Node's warning past 10 would be a false alarm.
    setMaxListeners(0, controller.signal);
    this.loopController = controller;
    this.backoff.reset();
    this.halted = undefined;
    this.currentState = 'running';
    this.cancellations?.on('task:cancelled', this.onTaskCancelled);
    this.loopDone = this.fetchLoop.run(controller.signal);
    this.announce({ name: 'worker:started', payload: { workerId: this.workerId } });
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.wanted = 'stopped';
    if (this.currentState === 'idle' || this.currentState === 'stopped') return Promise.resolve();
    if (this.stopping) return this.stopping;
    this.currentState = 'stopping';
    this.stopping = (async () => {
      try {
        await this.shutdown();
      } finally {
        this.cancellations?.off('task:cancelled', this.onTaskCancelled);
        this.stopping = undefined;
        this.currentState = 'stopped';
        // The waiters first: a `worker:stopped` listener may start the worker again, which forgets the halt.
        for (const settle of this.stopWaiters.splice(0)) settle(this.halted);
        this.announce({ name: 'worker:stopped', payload: { workerId: this.workerId } });
      }
    })();
    return this.stopping;
  }

  onStopped(): Promise<WorkerHaltedError | undefined> {
    if (this.currentState === 'idle' || this.currentState === 'stopped') return Promise.resolve(this.halted);
    return new Promise((settle) => this.stopWaiters.push(settle));
  }

  onIdle(): Promise<void> {
    return this.slots.onIdle();
  }

  private async shutdown(): Promise<void> {
    this.loopController?.abort(new DOMException('The worker is stopping.', 'AbortError'));
    await Promise.all([this.loopDone, this.release(this.buffer.drain()), ...this.handingBack]);
    if (this.slots.taken === 0) return this.slots.onIdle();
    if (this.options.stopGracePeriod > 0) {
      const graceOver = new AbortController();
      await Promise.race([
        this.slots.onIdle(),
        abortableSleep(this.options.clock, this.options.stopGracePeriod, graceOver.signal),
      ]);
      graceOver.abort();
    }
    for (const run of this.runs.values()) run.abort(TaskAbortedError.workerStopped(run.task));
    await this.slots.onIdle();
  }

  /**
   * How many more tasks the worker can take: free slots and free places in its buffer. Reports beyond
   * `concurrency` take room too, so that a store slower to record outcomes than to hand out tasks holds
   * the worker back rather than letting its reports pile up.
   */
  private room(): number {
    const { concurrency } = this.options;
    const excessReports = Math.max(0, this.slots.trailing - concurrency);
    return concurrency - this.slots.taken + this.buffer.room - excessReports;
  }

  /**
   * Runs fetched tasks in free slots; queues the rest in the buffer, or, when it is full, for a slot.
   * Answers those it did not take, for the caller to hand back: a `worker:fetched` listener or a handler
   * just started may have stopped the worker, whose buffer was then already handed back. Their locks
   * count from now, as the fetch claimed them just before answering (see {@link FetchedTask}).
   */
  private accept(tasks: readonly ExternalTask[]): ExternalTask[] {
    const lockedSince = this.options.clock.now();
    const notTaken: ExternalTask[] = [];
    for (const task of tasks) {
      if (this.currentState !== 'running') notTaken.push(task);
      else if (this.slots.free === 0 && !this.buffer.full) this.buffer.push({ task, lockedSince });
      else this.startTask({ task, lockedSince });
    }
    return notTaken;
  }

  /** Gives freed slots the tasks waiting in the buffer, while the worker runs. */
  private startBuffered(): void {
    while (this.currentState === 'running' && this.slots.free > 0) {
      const fetched = this.buffer.take();
      if (!fetched) return;
      this.startTask(fetched);
    }
  }

  /** Tasks that waited in the buffer as long as `maxBufferWait` go back to the store for others to fetch. */
  private readonly onBufferExpired = (tasks: ExternalTask[]): void => {
    this.options.logger.warn(
      `${tasks.length} fetched task(s) waited maxBufferWait in the buffer and are handed back; a smaller bufferSize would not fetch them.`,
    );
    this.watch.changed();
    const handingBack = this.release(tasks).finally(() => this.handingBack.delete(handingBack));
    this.handingBack.add(handingBack);
  };

  /**
   * Stops the worker because polling on could never fetch a task, and says why: once in the log (the
   * message says what to change), and as a `worker:error` event. The stop aborts the loop's signal at once.
   */
  private halt(error: WorkerHaltedError): void {
    this.halted = error;
    this.options.logger.error(error.message);
    this.announce({
      name: 'worker:error',
      payload: { workerId: this.workerId, error, context: { type: 'fetch' } },
    });
    void this.stop();
  }

  /**
   * The engine cancelled a task: a handler running it is aborted at once, not at its next extension, and
   * a buffered one is dropped, never run (a cancelled task has nothing to hand back).
   */
  private readonly onTaskCancelled: CancellationListener = ({ task }) => {
    if (this.buffer.remove(task.id)) this.watch.changed();
    this.runs.get(task.id)?.abort(TaskAbortedError.lockLost(task, new GoneError(task.id, 'cancelled')));
  };

  private startTask({ task, lockedSince }: FetchedTask): void {
    if (this.runs.has(task.id)) {
      // Its lock lapsed (extensions failed) and this fetch took it again. The handler already running keeps
      // the task: the fetch renewed its lock, and the run's lock keeper goes on extending it.
      this.options.logger.warn('Fetched a task whose handler is still running; it is not run twice.', {
        externalTaskId: task.id,
      });
      return;
    }
    const run = new TaskRun({ task, lockedSince }, this.api, this.options, this.announce);
    this.runs.set(task.id, run);
    this.slots
      .run(async () => {
        try {
          return await run.execute();
        } finally {
          this.runs.delete(task.id);
        }
      })
      .catch((error: unknown) => {
        this.options.logger.error('A task run failed unexpectedly.', { externalTaskId: task.id, error });
        this.announce({
          name: 'worker:error',
          payload: { workerId: this.workerId, error, context: { type: 'loop' } },
        });
      });
  }

  /**
   * Hands tasks back with `unlock`, so that any worker may fetch them at once: those that arrived after
   * `stop()` began, those left in the buffer on stop, and those that waited in it too long.
   */
  private async release(tasks: readonly ExternalTask[]): Promise<void> {
    await Promise.all(
      tasks.map(async (task) => {
        try {
          await this.api.unlock(this.options.identity, this.workerId, task.id);
        } catch (error) {
          this.options.logger.error('Handing back a fetched task failed; its lock expires instead.', {
            externalTaskId: task.id,
            error,
          });
          this.announce({
            name: 'worker:error',
            payload: { workerId: this.workerId, error, context: { type: 'unlock', task } },
          });
        }
      }),
    );
  }
}
