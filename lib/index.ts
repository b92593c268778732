export { ExternalTaskApi, tokenAccessPolicy } from './api/index.js';
export type {
  AccessPolicy,
  AccessRequest,
  ConsumeOutcomesOptions,
  EngineOperations,
  ExternalTaskApiOptions,
  ExternalTaskOutcome,
  ExternalTaskOperation,
  ExternalTaskService,
  FetchAndLockOptions,
  OutcomesStart,
  ServiceErrorOptions,
  WaitForOutcomeOptions,
} from './api/index.js';
export { ManualClock, systemClock } from './clock/index.js';
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
export { frozenRecord } from './model/index.js';
export type {
  BpmnFailure,
  ExternalTask,
  ExternalTaskFailure,
  ExternalTaskState,
  Identity,
  JsonValue,
  NewExternalTask,
  ServiceFailure,
} from './model/index.js';
export {
  defaultFinalTaskRetention,
  inScope,
  InMemoryExternalTaskRepository,
  validateCancelSelector,
  validateCountFilter,
  validateFinalTaskSelector,
  validateNewTask,
  validateNewTasks,
  validateQuery,
  validateRequestShape,
  validateScope,
  validateSetPriority,
  validateSetRetries,
  validateTopicNames,
} from './repository/index.js';
export type {
  AvailabilityHint,
  AvailabilityListener,
  AvailabilityWatch,
  CancelSelector,
  ChangeFeed,
  ChangeFeedResync,
  ChangePosition,
  ChangeSubscriber,
  ClaimRequest,
  CompleteRequest,
  ConditionalWriteResult,
  EngineWriteResult,
  ExtendLockRequest,
  ExternalTaskChange,
  ExternalTaskChangeType,
  ExternalTaskPage,
  ExternalTaskQuery,
  ExternalTaskRepository,
  FinalTaskSelector,
  HeldTaskRequest,
  InMemoryExternalTaskRepositoryOptions,
  RetryRequest,
  SetRetriesOptions,
  SetRetriesResult,
  TaskCountFilter,
  TaskOutcome,
  TaskScope,
  TopicClaim,
  TopicTaskCounts,
  UnlockRequest,
  UnpositionedChange,
  ValidNewTask,
  ValidQuery,
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
