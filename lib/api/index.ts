export { tokenAccessPolicy } from './access-policy.js';
export type { AccessPolicy, AccessRequest, ExternalTaskOperation } from './access-policy.js';
export { ExternalTaskApi } from './external-task-api.js';
export type { EngineOperations } from './engine-operations.js';
export type { ConsumeOutcomesOptions, ExternalTaskOutcome, OutcomesStart } from './outcome-consumers.js';
export type { ExternalTaskApiOptions, WaitForOutcomeOptions } from './external-task-api-options.js';
export type {
  ExternalTaskService,
  FetchAndLockOptions,
  FetchTopic,
  ServiceErrorOptions,
} from './external-task-service.js';
export { requireServiceOperations } from './external-task-service.js';
