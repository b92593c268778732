export type {
  ClaimRequest,
  CompleteRequest,
  ConditionalWriteResult,
  ExtendLockRequest,
  ExternalTaskChange,
  ExternalTaskChangeListener,
  ExternalTaskRepository,
  TaskOutcome,
  TaskVisibility,
  TopicClaim,
} from './external-task-repository.js';
export { InMemoryExternalTaskRepository } from './in-memory/index.js';
export type { InMemoryExternalTaskRepositoryOptions } from './in-memory/index.js';
