export { tokenAccessPolicy } from './access-policy.js';
export type { AccessPolicy, AccessRequest, ExternalTaskOperation } from './access-policy.js';
export { ExternalTaskApi } from './external-task-api.js';
export type { EngineOperations } from './engine-operations.js';
export type {
  ConsumeOutcomesAfterOptions,
  ConsumeOutcomesOptions,
  ExternalTaskOutcome,
  NamedConsumeOutcomesOptions,
  NamedOutcomeConsumer,
  OutcomeFailure,
  OutcomeHandlingOptions,
  OutcomeRetryOptions,
  OutcomesStart,
} from './consume-outcomes-options.js';
export type { ExternalTaskApiOptions, WaitForOutcomeOptions } from './external-task-api-options.js';
export type {
  ExternalTaskService,
  FetchAndLockOptions,
  FetchTopic,
  ServiceErrorOptions,
} from './external-task-service.js';
export { requireServiceOperations } from './external-task-service.js';
