import type { ExternalTaskService } from '../api/index.js';
import type { ContainedEventEmitter } from '../events/index.js';
import type { ExternalTask, JsonValue, TaskResult } from '../model/index.js';
import { TaskWorker } from './task-worker.js';
import type { ExternalTaskWorkerEvents } from './worker-events.js';
import type { WorkerHaltedError } from './worker-halted-error.js';
import type { ExternalTaskWorkerOptions } from './worker-options.js';
import type { WorkerStats } from './worker-stats.js';

/** The states of an {@link ExternalTaskWorker}; see its comment. */
export type WorkerState = 'idle' | 'running' | 'stopping' | 'stopped';

/**
 * Fetches tasks of one or more topics, runs a handler for each (at most `concurrency` at once), keeps
 * their locks while they run, and reports what each handler returned or threw. It works with any
 * {@link ExternalTaskService}: the in-process {@link ExternalTaskApi} or a remote client.
 *
 * State machine:
 * ```
 *   idle ──start()──▶ running ──stop()──▶ stopping ──▶ stopped ──start()──▶ running …
 * ```
 * - `idle`: constructed, options checked; nothing runs.
 * - `running`: `start()` launched the poll loop (synchronously: the worker is `running` when `start()`
 *   returns). The poll loop fetches ahead (see the worker guide): once enough of its slots and buffer
 *   places are free it fetches for them — a long poll, or several fetches at once while the store has
 *   more — starts a handler per task in a free slot and queues the rest in the buffer, from which freed
 *   slots take their next task. A handler's report goes on while its slot takes the next task. Fetch
 *   failures back off and retry. Only `stop()` ends the loop, which calls it itself when no fetch can
 *   ever succeed: a fetch answered 400, 401 or 403, or the API was closed (a `worker:error` event with a
 *   {@link WorkerHaltedError} says so).
 * - `stopping`: `stop()` aborted the stop signal: the open fetches end at once and no new one starts;
 *   the tasks in the buffer are handed back with `unlock`. Running handlers get `stopGracePeriod` ms to
 *   finish (their outcomes are reported); then their signals are aborted and their outcomes dropped.
 * - `stopped`: no fetch, handler run, timer or listener of the worker is left. `start()` may run it again.
 *
 * `start()` while running, and `stop()` while idle or stopped, do nothing; `stop()` while
 * stopping returns the same promise; `start()` while stopping starts again once the stop is complete,
 * unless `stop()` was called after it: the last call wins.
 *
 * Over an api typed by a topic map (`ExternalTaskApi<Topics>`, `HttpExternalTaskClient<Topics>`), `topic`
 * names topics of the map, the handler gets their records — a union that `task.topic` narrows — and must
 * return their declared results; see {@link ExternalTaskWorkerConstructor}.
 *
 * @typeParam Payload - The payload shape of the tasks the handler gets (see {@link ExternalTask}).
 * @typeParam Result - What the handler returns.
 * @typeParam Task - The records the handler and the events get. @default ExternalTask<Payload>
 * @example
 * ```ts
 * const api = new ExternalTaskApi({ repository: new InMemoryExternalTaskRepository() });
 * const worker = new ExternalTaskWorker(api, {
 *   topic: 'send-invoice',
 *   identity: { token: 'worker-token' },
 *   concurrency: 10,
 *   handler: async (task, { signal }) => {
 *     const response = await fetch('https://billing.example/invoices', {
 *       method: 'POST',
 *       body: JSON.stringify(task.payload),
 *       signal,
 *     });
 *     if (response.status === 422) throw new BpmnError('INVOICE_REJECTED', await response.text());
 *     return { invoiceId: ((await response.json()) as { id: string }).id };
 *   },
 * });
 * worker.events.on('worker:task:failed', ({ task, error }) => console.warn(task.id, error));
 * await worker.start();
 * // … on shutdown:
 * await worker.stop();
 * ```
 */
export interface ExternalTaskWorker<
  Payload = JsonValue,
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- names what the worker was declared with
  Result = unknown,
  Task extends ExternalTask<unknown, unknown> = ExternalTask<Payload>,
> {
  /**
   * Typed events, all named `worker:…`; see {@link ExternalTaskWorkerEvents}. Listener exceptions are
   * logged, never thrown.
   */
  readonly events: ContainedEventEmitter<ExternalTaskWorkerEvents<Task>>;
  /** The id this worker locks tasks under (the option, or a generated unique one). */
  readonly workerId: string;
  /** Where the worker is in its life; see the state machine above. */
  readonly state: WorkerState;
  /**
   * How many handlers are running now (or waiting for a slot, when a service answered more tasks than
   * asked). A finished handler's slot takes the next task while its outcome is being reported;
   * {@link onIdle} and `stop()` wait for those reports too.
   */
  readonly running: number;
  /**
   * Counts what the worker has done since it was constructed: tasks fetched, outcomes recorded (finished,
   * BPMN errors, service errors, of them retried and incidents), handlers aborted (lost lock, cancelled,
   * stopped), failed fetches and failed reports. A frozen snapshot; see {@link WorkerStats}.
   */
  stats(): WorkerStats;
  /**
   * Starts polling. Resolves once the poll loop runs; safe to call twice, and after `stop()` to restart.
   * During a stop it starts again once the stop is complete, unless `stop()` is called again meanwhile.
   */
  start(): Promise<void>;
  /**
   * Stops: ends the open fetch at once, fetches no more, waits up to `stopGracePeriod` ms for running
   * handlers, then aborts the rest (dropping their outcomes). Resolves when nothing of the worker is left
   * running. Safe to call twice and concurrently; it cancels a `start()` called during the stop.
   */
  stop(): Promise<void>;
  /**
   * Resolves when the worker is stopped: with the {@link WorkerHaltedError} when it halted by itself (a
   * refused fetch, a closed API), with `undefined` after `stop()`. At once when it is not running (with
   * the reason of its last halt, if its last run ended so). A worker process ends non-zero with it:
   * `if (await worker.onStopped()) process.exitCode = 1;`
   */
  onStopped(): Promise<WorkerHaltedError | undefined>;
  /**
   * Resolves when no handler runs and no outcome is being reported (at once if none is). More may start
   * later while the worker runs.
   */
  onIdle(): Promise<void>;
}

/**
 * `new ExternalTaskWorker(api, options)`: over an api typed by a topic map, typed by the map; over an
 * untyped one, by type arguments or the handler's annotation, as before topic maps.
 */
export interface ExternalTaskWorkerConstructor {
  /**
   * A worker over an api typed by a topic map: `topic` names one or more of its topics, the handler gets
   * their records (a union that `task.topic` narrows) and must return their declared results.
   * @typeParam Tasks - The api's records, inferred from it ({@link TaskOf} of its map).
   * @typeParam Topic - The worker's topics, inferred from `topic`.
   * @throws TypeError or RangeError naming the option (and its value) when an option is invalid, and
   * TypeError when `api` lacks a method of {@link ExternalTaskService}.
   */
  new <Tasks extends ExternalTask<unknown, unknown>, const Topic extends Tasks['topic']>(
    api: ExternalTaskService<Tasks> & (string extends Tasks['topic'] ? never : unknown),
    options: ExternalTaskWorkerOptions<
      Extract<Tasks, { readonly topic: Topic }>['payload'],
      TaskResult<Extract<Tasks, { readonly topic: Topic }>>,
      Extract<Tasks, { readonly topic: Topic }>
    > & { readonly topic: Topic | readonly Topic[] },
  ): ExternalTaskWorker<
    Extract<Tasks, { readonly topic: Topic }>['payload'],
    TaskResult<Extract<Tasks, { readonly topic: Topic }>>,
    Extract<Tasks, { readonly topic: Topic }>
  >;
  /**
   * A worker over an untyped api: the handler gets an `ExternalTask<Payload>` and returns a `Result`, as
   * type arguments (`new ExternalTaskWorker<Order, Receipt>(…)`) or the handler's annotation declare.
   * @typeParam Tasks - The api's records, inferred from it: {@link ExternalTask}s.
   * @throws TypeError or RangeError naming the option (and its value) when an option is invalid, and
   * TypeError when `api` lacks a method of {@link ExternalTaskService}.
   */
  new <Payload = JsonValue, Result = unknown, Tasks extends ExternalTask<unknown, unknown> = ExternalTask>(
    api: ExternalTaskService<Tasks> & (string extends Tasks['topic'] ? unknown : never),
    options: ExternalTaskWorkerOptions<Payload, Result>,
  ): ExternalTaskWorker<Payload, Result>;
  readonly prototype: ExternalTaskWorker<unknown, unknown, ExternalTask<unknown, unknown>>;
}

// The worker passes the service's records through as they come; the construct signatures type them.
/**
 * Constructs a worker; see {@link ExternalTaskWorker} for what it does and
 * {@link ExternalTaskWorkerConstructor} for how the api's topic map types it.
 */
export const ExternalTaskWorker = TaskWorker as unknown as ExternalTaskWorkerConstructor;
