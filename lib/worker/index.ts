export { BpmnError } from './bpmn-error.js';
export {
  ExternalTaskWorker,
  type ExternalTaskWorkerConstructor,
  type WorkerState,
} from './external-task-worker.js';
export { TaskAbortedError, type TaskAbortCode } from './task-aborted-error.js';
export { WorkerHaltedError, type WorkerHaltCode } from './worker-halted-error.js';
export type { ExternalTaskHandler, TaskContext } from './task-handler.js';
export type { WorkerStats } from './worker-stats.js';
export type {
  ExternalTaskWorkerEventName,
  ExternalTaskWorkerEvents,
  ReportOperation,
  WorkerErrorContext,
} from './worker-events.js';
export type { PlannedRetry } from './retry-policy.js';
export { workerDefaults } from './worker-defaults.js';
export type { BackoffOptions, ExternalTaskWorkerOptions, RetryPolicyOptions } from './worker-options.js';
