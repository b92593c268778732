import type { AccessPolicy } from './access-policy.js';
import type { Clock } from '../clock/index.js';
import type { Logger } from '../logging/index.js';
import type { ExternalTaskRepository } from '../repository/index.js';

/** Options of `ExternalTaskApi`. */
export interface ExternalTaskApiOptions {
  /** The store of tasks. */
  readonly repository: ExternalTaskRepository;
  /** Who may do what. @default tokenAccessPolicy (401 without a non-empty string token) */
  readonly accessPolicy?: AccessPolicy | undefined;
  /** Time and timers for long polls. @default systemClock */
  readonly clock?: Clock | undefined;
  /** Receives failures that cannot be thrown to a caller (listeners, the store's announcements). @default consoleLogger */
  readonly logger?: Logger | undefined;
}

/** Options of `ExternalTaskApi.waitForOutcome`. */
export interface WaitForOutcomeOptions {
  /** Stops waiting: the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
}
