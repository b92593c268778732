import type { ExternalTask, TaskResult } from '../model/index.js';
import type { PlannedRetry } from './retry-policy.js';
import type { TaskAbortedError } from './task-aborted-error.js';

/** The API call whose failure a `worker:error` event reports. */
export type ReportOperation = 'finishExternalTask' | 'handleBpmnError' | 'handleServiceError';

/**
 * Where a `worker:error` event comes from.
 * @typeParam Task - The worker's records (see {@link ExternalTaskWorkerEvents}). @default ExternalTask
 */
export type WorkerErrorContext<Task = ExternalTask> =
  /** Reporting an outcome failed; the task stays locked until its lock expires, then is fetched again. */
  | { readonly type: 'report'; readonly operation: ReportOperation; readonly task: Task }
  /**
   * Handing back (`unlock`) a task failed — one fetched while stopping, or one of the buffer (on stop, or
   * after it waited `maxBufferWait`); its lock will expire instead.
   */
  | { readonly type: 'unlock'; readonly task: Task }
  /**
   * A fetch was refused for good (400, 401 or 403), or the API was closed: the worker stops by itself.
   * The error is a `WorkerHaltedError` saying what to change.
   */
  | { readonly type: 'fetch' }
  /** Anything else unexpected in the poll loop (a bug); the loop backs off and carries on. */
  | { readonly type: 'loop' };

/**
 * The events of {@link ExternalTaskWorker.events}. Every name starts with `worker:`, apart from the
 * `task:` events of {@link ExternalTaskApi.events}, which tell what happened to a task in the store
 * whoever did it; these tell what this worker did. Every payload is one object carrying the `workerId`
 * of the worker; the events about one task carry its record as `task`, as the API's events do, and
 * `error` is always what was thrown (by the handler, the API or a listener). Listeners that throw are
 * contained (logged); they cannot break the worker.
 * @typeParam Task - The records the worker's handler gets: on an api typed by a topic map, those of the
 * worker's topics, which `task.topic` narrows, and `result` is their declared result. @default ExternalTask
 */
export interface ExternalTaskWorkerEvents<Task extends ExternalTask<unknown, unknown> = ExternalTask> {
  /** `start()` launched the poll loop. */
  'worker:started': (event: { workerId: string }) => void;
  /** `stop()` finished: no fetch, handler, timer or listener of the worker is left. */
  'worker:stopped': (event: { workerId: string }) => void;
  /** A fetch answered `count` tasks (0 when a long poll ran out of time). */
  'worker:fetched': (event: { workerId: string; count: number }) => void;
  /** A fetch failed; the next one starts in `retryInMs` ms. */
  'worker:fetchFailed': (event: { workerId: string; error: unknown; retryInMs: number }) => void;
  /** The handler was called for `task`. */
  'worker:task:started': (event: { workerId: string; task: Task }) => void;
  /** The lock of a running task was extended. */
  'worker:task:extended': (event: { workerId: string; task: Task }) => void;
  /** Extending a lock failed for another reason than a lost lock; the next interval tries again. */
  'worker:task:extendFailed': (event: { workerId: string; task: Task; error: unknown }) => void;
  /** The handler's `result` was recorded with `finishExternalTask`: the task is finished. */
  'worker:task:finished': (event: {
    workerId: string;
    task: Task;
    /** On a typed api, the topic's declared result; on an untyped one, whatever the handler returned. */
    result: string extends Task['topic'] ? unknown : TaskResult<Task>;
  }) => void;
  /**
   * The handler threw `error`, and it was recorded as a BPMN error or a service error (`type`, as in the
   * task's recorded `error`). `retry` is set when the report asked for a retry (see the `retry` option):
   * the retries left and the delay. `incident`, as in the API's `task:failed`, when the report used up
   * the task's retries.
   */
  'worker:task:failed': (event: {
    workerId: string;
    task: Task;
    error: unknown;
    type: 'bpmn' | 'service';
    retry?: PlannedRetry | undefined;
    incident: boolean;
  }) => void;
  /** The worker aborted the handler's signal and will drop its outcome; `reason` says why. */
  'worker:task:aborted': (event: { workerId: string; task: Task; reason: TaskAbortedError }) => void;
  /** Something failed that no caller can be told about; `context` says what. */
  'worker:error': (event: { workerId: string; error: unknown; context: WorkerErrorContext<Task> }) => void;
}

/** The name of an event of {@link ExternalTaskWorkerEvents}. */
export type ExternalTaskWorkerEventName = keyof ExternalTaskWorkerEvents;

/** The payload of the worker event `E`. */
export type WorkerEventPayload<E extends ExternalTaskWorkerEventName> = Parameters<
  ExternalTaskWorkerEvents[E]
>[0];

/** One worker event with its payload, as a union to switch on. */
export type WorkerEvent = {
  [E in ExternalTaskWorkerEventName]: { readonly name: E; readonly payload: WorkerEventPayload<E> };
}[ExternalTaskWorkerEventName];

/** How the parts of a worker announce an event: counted in the worker's stats, then emitted. */
export type AnnounceWorkerEvent = (event: WorkerEvent) => void;
