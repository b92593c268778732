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
} from './external-task-repository.js';
export type {
  AcquireConsumerLeaseRequest,
  AcquireConsumerLeaseResult,
  ConsumerLeases,
  ConsumerLeaseWriteResult,
  ReleaseConsumerLeaseRequest,
  RenewConsumerLeaseRequest,
  ValidConsumerLeaseRelease,
  ValidConsumerLeaseRequest,
} from './consumer-leases.js';
export { validateConsumerLeaseRequest } from './consumer-leases.js';
export { defaultFinalTaskRetention } from './final-task-retention-option.js';
export { InMemoryExternalTaskRepository } from './in-memory/index.js';
export type { InMemoryExternalTaskRepositoryOptions } from './in-memory/index.js';
export { inScope, scopeCovers } from './task-scope.js';
export {
  subscriptionStart,
  validateCancelSelector,
  validateChangeSubscriber,
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
} from './repository-arguments.js';
export type { ValidNewTask, ValidQuery } from './repository-arguments.js';
