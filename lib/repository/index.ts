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
  ExtendLockRequest,
  ExternalTaskChange,
  ExternalTaskChangeType,
  ExternalTaskPage,
  ExternalTaskQuery,
  ExternalTaskRepository,
  HeldTaskRequest,
  RetryRequest,
  SetRetriesResult,
  TaskCountFilter,
  TaskOutcome,
  TaskScope,
  TopicClaim,
  TopicTaskCounts,
  UnlockRequest,
  UnpositionedChange,
} from './external-task-repository.js';
export { InMemoryExternalTaskRepository } from './in-memory/index.js';
export type { InMemoryExternalTaskRepositoryOptions } from './in-memory/index.js';
export { inScope, scopeCovers } from './task-scope.js';
export {
  validateCancelSelector,
  validateCountFilter,
  validateNewTask,
  validateNewTasks,
  validateQuery,
  validateScope,
} from './repository-arguments.js';
export type { ValidNewTask } from './repository-arguments.js';
