export type {
  CancelSelector,
  ClaimRequest,
  CompleteRequest,
  ConditionalWriteResult,
  ExtendLockRequest,
  ExternalTaskChange,
  ExternalTaskChangeListener,
  ExternalTaskChangeType,
  ExternalTaskPage,
  ExternalTaskQuery,
  ExternalTaskRepository,
  RetryRequest,
  TaskOutcome,
  TaskVisibility,
  TopicClaim,
  TopicTaskCounts,
  UnlockRequest,
} from './external-task-repository.js';
export { InMemoryExternalTaskRepository } from './in-memory/index.js';
export type { InMemoryExternalTaskRepositoryOptions } from './in-memory/index.js';
