import type { ExternalTask } from '../model/index.js';
import type { PlannedRetry } from './retry-policy.js';
import type { TaskAbortedError } from './task-aborted-error.js';

/** The API call whose failure an `error` event reports. */
export type ReportOperation = 'finishExternalTask' | 'handleBpmnError' | 'handleServiceError';

/** Where an `error` event comes from. */
export type WorkerErrorContext =
  /** Reporting an outcome failed; the task stays locked until its lock expires, then is fetched again. */
  | { readonly type: 'report'; readonly operation: ReportOperation; readonly task: ExternalTask }
  /** Handing back (`unlock`) a task fetched while stopping failed; its lock will expire instead. */
  | { readonly type: 'unlock'; readonly task: ExternalTask }
  /**
   * A fetch was refused for good (400, 401 or 403), or the API was closed: the worker stops by itself.
   * The error is a `WorkerHaltedError` saying what to change.
   */
  | { readonly type: 'fetch' }
  /** Anything else unexpected in the poll loop (a bug); the loop backs off and carries on. */
  | { readonly type: 'loop' };

/**
 * The events of {@link ExternalTaskWorker.events}: namespaced names, one payload object each. Listeners
 * that throw are contained (logged); they cannot break the worker.
 */
export interface ExternalTaskWorkerEvents {
  /** `start()` launched the poll loop. */
  'worker:started': (event: { workerId: string }) => void;
  /** `stop()` finished: no fetch, handler, timer or listener of the worker is left. */
  'worker:stopped': (event: { workerId: string }) => void;
  /** A fetch answered `count` tasks (0 when a long poll ran out of time). */
  'poll:success': (event: { count: number }) => void;
  /** A fetch failed; the next one starts in `retryInMs` ms. */
  'poll:error': (event: { error: unknown; retryInMs: number }) => void;
  /** A handler was called for `task`. */
  'task:started': (event: { task: ExternalTask }) => void;
  /** The handler's `result` was reported with `finishExternalTask`. */
  'task:completed': (event: { task: ExternalTask; result: unknown }) => void;
  /**
   * The handler threw `error`, and it was reported as a BPMN error or a service error. `retry` is set
   * when the report asked for a retry (see the `retry` option): the retries left and the delay.
   */
  'task:failed': (event: {
    task: ExternalTask;
    error: unknown;
    kind: 'bpmn' | 'service';
    retry?: PlannedRetry | undefined;
  }) => void;
  /** The worker aborted the handler's signal and will drop its outcome; `reason` says why. */
  'task:aborted': (event: { task: ExternalTask; reason: TaskAbortedError }) => void;
  /** The lock of a running task was extended. */
  'lock:extended': (event: { task: ExternalTask }) => void;
  /** Extending a lock failed for another reason than a lost lock; the next interval tries again. */
  'lock:extendFailed': (event: { task: ExternalTask; error: unknown }) => void;
  /** Something failed that no caller can be told about; `context` says what. */
  error: (event: { error: unknown; context: WorkerErrorContext }) => void;
}

/** The name of an event of {@link ExternalTaskWorkerEvents}. */
export type ExternalTaskWorkerEventName = keyof ExternalTaskWorkerEvents;
