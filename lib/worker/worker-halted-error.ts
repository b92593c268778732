import type { Identity } from '../model/index.js';

/** Why a worker stopped by itself. */
export type WorkerHaltCode = 'FETCH_REFUSED' | 'API_CLOSED';

/** The statuses of a fetch failure that no retry can cure (spec §7): bad request, unauthenticated, forbidden. */
const permanentStatuses: ReadonlySet<unknown> = new Set([400, 401, 403]);

/**
 * The error of the `error` event (context `fetch`) a worker emits when it stops by itself, because polling
 * on could never fetch a task:
 * - `FETCH_REFUSED`: a fetch answered 400, 401 or 403, which the same call will answer again. `cause` is
 *   the API's error; the message says what to change.
 * - `API_CLOSED`: the worker's {@link ExternalTaskApi} was closed, so every fetch answers `[]`.
 */
export class WorkerHaltedError extends Error {
  override readonly name = 'WorkerHaltedError';

  constructor(
    /** Stable, for programs. */
    readonly code: WorkerHaltCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  /**
   * The reason to stop after a fetch failed with `error`, or `undefined` when the failure may pass (a
   * network error, a 500, …) and the worker should back off and retry. Reads `status`, so errors of any
   * transport qualify.
   */
  static fetchRefused(error: unknown, identity: Identity | undefined): WorkerHaltedError | undefined {
    const status = (error as { status?: unknown } | null)?.status;
    if (!permanentStatuses.has(status)) return undefined;
    const hasToken = typeof identity?.token === 'string' && identity.token !== '';
    const fix =
      status === 401
        ? hasToken
          ? 'the API does not accept the identity (a revoked or wrong token?): pass a valid `identity` to ExternalTaskWorker'
          : 'the identity must carry a token: pass `identity` to ExternalTaskWorker'
        : status === 403
          ? 'the identity may not fetch these topics: change the identity or the `topic` option'
          : 'the API refuses the fetch the options describe: change the worker options it names';
    const said = error instanceof Error ? ` It said: ${error.message}` : '';
    return new WorkerHaltedError(
      'FETCH_REFUSED',
      `The API refused the worker's fetch with ${String(status)}, and would refuse it again: ${fix}. The worker stopped.${said}`,
      { cause: error },
    );
  }

  /** The reason to stop when the worker's API was closed. */
  static apiClosed(): WorkerHaltedError {
    return new WorkerHaltedError(
      'API_CLOSED',
      'The ExternalTaskApi of the worker was closed, so no fetch can hand out a task any more: the worker stopped.',
    );
  }
}
