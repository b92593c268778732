import { UnauthorizedError } from '../errors/index.js';
import type { Logger } from '../logging/index.js';
import type { ExternalTask, Identity } from '../model/index.js';
import type { TaskVisibility } from '../repository/index.js';

/** The operations a worker can call, as an access policy sees them. */
export type ExternalTaskOperation =
  'fetchAndLock' | 'extendLock' | 'unlock' | 'finish' | 'handleBpmnError' | 'handleServiceError';

/** What a caller asks to do; given to {@link AccessPolicy.authorize} before anything is read or written. */
export interface AccessRequest {
  readonly operation: ExternalTaskOperation;
  readonly workerId: string;
  /** For operations on one task. */
  readonly externalTaskId?: string;
  /** For fetches. */
  readonly topicNames?: readonly string[];
}

/**
 * Decides who may do what. The embedding application supplies one; {@link tokenAccessPolicy} is the
 * default.
 */
export interface AccessPolicy {
  /**
   * Called first on every worker operation, with the arguments as passed. Throw
   * {@link UnauthorizedError} (401) or {@link ForbiddenError} (403) to refuse.
   */
  authorize(identity: Identity | undefined, request: AccessRequest): void | Promise<void>;
  /**
   * Whether `identity` may see `task`. Invisible tasks are never handed out by a fetch, and the other
   * operations answer 404 for them. It runs inside the store's atomic step, so it must be synchronous,
   * fast and must not throw. @default every task is visible
   */
  isVisible?(identity: Identity | undefined, task: ExternalTask): boolean;
}

/**
 * The default policy: 401 unless the identity carries a non-empty string `token`; everything else is
 * allowed and every task visible.
 */
export const tokenAccessPolicy: AccessPolicy = {
  authorize(identity) {
    if (
      typeof identity !== 'object' ||
      identity === null ||
      typeof identity.token !== 'string' ||
      identity.token === ''
    ) {
      throw new UnauthorizedError('The identity must carry a non-empty string token.');
    }
  },
};

/**
 * The repository's visibility check for `identity` under `policy` (none when the policy sees all). A
 * policy that throws is reported to `logger` and the task counts as not visible.
 */
export function visibilityFor(
  policy: AccessPolicy,
  identity: Identity | undefined,
  logger: Logger,
): { isVisible?: TaskVisibility } {
  if (!policy.isVisible) return {};
  return {
    isVisible: (task) => {
      try {
        return policy.isVisible?.(identity, task) === true;
      } catch (error) {
        logger.error('The access policy threw in isVisible; the task is treated as invisible.', {
          externalTaskId: task.id,
          error,
        });
        return false;
      }
    },
  };
}
