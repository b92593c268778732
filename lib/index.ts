export { ExternalTaskApi, tokenAccessPolicy } from './api/index.js';
export type {
  AccessPolicy,
  AccessRequest,
  ConsumeOutcomesAfterOptions,
  ConsumeOutcomesOptions,
  EngineOperations,
  ExternalTaskApiOptions,
  ExternalTaskOutcome,
  ExternalTaskOperation,
  ExternalTaskService,
  FetchAndLockOptions,
  NamedConsumeOutcomesOptions,
  NamedOutcomeConsumer,
  OutcomeFailure,
  OutcomeHandlingOptions,
  OutcomeRetryOptions,
  OutcomesStart,
  ServiceErrorOptions,
  WaitForOutcomeOptions,
} from './api/index.js';
export { systemClock } from './clock/index.js';
export type { Clock, TimerHandle } from './clock/index.js';
export {
  BadRequestError,
  ChangeFeedRetentionError,
  ExternalTaskError,
  ForbiddenError,
  GoneError,
  InternalError,
  LockedError,
  NotFoundError,
  UnauthorizedError,
} from './errors/index.js';
export { ContainedEventEmitter } from './events/index.js';
export type { ExternalTaskEventName, ExternalTaskEvents } from './events/index.js';
export { consoleLogger } from './logging/index.js';
export type { Logger } from './logging/index.js';
export type {
  BpmnFailure,
  ExternalTask,
  ExternalTaskFailure,
  ExternalTaskState,
  Identity,
  JsonCompatible,
  JsonValue,
  NewExternalTask,
  NewTaskOf,
  NewTopicTask,
  NotJson,
  PayloadOf,
  ResultOf,
  ServiceFailure,
  TaskOf,
  TaskResult,
  TopicMap,
  TopicName,
  TopicTask,
  TopicTypes,
  UntypedTopics,
} from './model/index.js';
export { InMemoryExternalTaskRepository } from './repository/in-memory/index.js';
export type { InMemoryExternalTaskRepositoryOptions } from './repository/in-memory/index.js';
// The contract types an engine names when it calls the api (`api.engine`, `api.events`, an access policy);
// the whole contract, for store authors, is `external-task-api/repository`.
export type {
  CancelSelector,
  ChangePosition,
  EngineWriteResult,
  ExternalTaskChange,
  ExternalTaskChangeType,
  ExternalTaskPage,
  ExternalTaskQuery,
  ExternalTaskRepository,
  FinalTaskSelector,
  SetRetriesOptions,
  TaskCountFilter,
  TaskOutcome,
  TaskScope,
  TopicClaim,
  TopicTaskCounts,
} from './repository/index.js';
export { limits } from './validation/index.js';
export {
  BpmnError,
  ExternalTaskWorker,
  TaskAbortedError,
  WorkerHaltedError,
  workerDefaults,
} from './worker/index.js';
export type {
  BackoffOptions,
  ExternalTaskHandler,
  ExternalTaskWorkerConstructor,
  ExternalTaskWorkerEventName,
  ExternalTaskWorkerEvents,
  ExternalTaskWorkerOptions,
  PlannedRetry,
  ReportOperation,
  RetryPolicyOptions,
  TaskAbortCode,
  TaskContext,
  WorkerErrorContext,
  WorkerHaltCode,
  WorkerState,
  WorkerStats,
} from './worker/index.js';
// The names that moved to `external-task-api/repository` and `/testing`, kept here as deprecated aliases
// for one minor version; the list is lib/deprecated/index.ts's.
export * from './deprecated/index.js';
