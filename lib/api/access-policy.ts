import { InternalError, UnauthorizedError } from '../errors/index.js';
import type { Identity } from '../model/index.js';
import { validateScope, type TaskScope } from '../repository/index.js';

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
   * What `identity` may see, as data the store evaluates inside its atomic step (see {@link TaskScope}):
   * tasks outside it are never handed out by a fetch, and the other operations answer 404 for them.
   * Called after {@link authorize} accepted the request. `undefined` sees every task.
   * @default every task is in scope
   */
  readonly scope?:
    ((identity: Identity | undefined) => TaskScope | undefined | Promise<TaskScope | undefined>) | undefined;
}

/**
 * The default policy: 401 unless the identity carries a non-empty string `token`; everything else is
 * allowed and every task in scope.
 */
export const tokenAccessPolicy: AccessPolicy = {
  authorize(identity) {
    if (
      typeof identity !== 'object' ||
      identity === null ||
      typeof identity.token !== 'string' ||
      identity.token === ''
    ) {
      throw new UnauthorizedError(
        `The identity must carry a non-empty string token, and ${describeIdentity(identity)}. Pass ` +
          '{ token } as the identity of each call (a worker: its `identity` option), or give ' +
          'ExternalTaskApi an accessPolicy that accepts such identities.',
      );
    }
  },
};

/** What an identity that carries no token is, for a 401: its type and field names, never a value. */
function describeIdentity(identity: unknown): string {
  if (identity === undefined) return 'no identity was passed';
  if (identity === null) return 'the identity passed is null';
  if (typeof identity === 'string') return 'the identity passed is a string, not { token }';
  if (typeof identity !== 'object' || Array.isArray(identity)) {
    return `the identity passed is ${Array.isArray(identity) ? 'an array' : `a ${typeof identity}`}`;
  }
  const { token } = identity as { token?: unknown };
  if (token === '') return 'the identity passed has an empty token';
  if (token !== undefined) {
    return `the identity passed has a token that is ${token === null ? 'null' : `a ${typeof token}`}`;
  }
  const fields = Object.keys(identity);
  return fields.length === 0
    ? 'the identity passed is an empty object'
    : `the identity passed has no token (its fields: ${fields.join(', ')})`;
}

/**
 * What `policy` lets `identity` see (`undefined`: everything), checked so that a store can rely on its
 * shape: a scope that is not one is the policy's bug, an {@link InternalError} (500).
 */
export async function scopeFor(
  policy: AccessPolicy,
  identity: Identity | undefined,
): Promise<TaskScope | undefined> {
  if (!policy.scope) return undefined;
  const scope = await policy.scope(identity);
  try {
    return validateScope(scope);
  } catch (error) {
    throw new InternalError(`The access policy returned an invalid scope: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
