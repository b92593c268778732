/** Why a worker stopped by itself. */
export type WorkerHaltCode = 'FETCH_REFUSED' | 'API_CLOSED';

/** The statuses of a fetch failure that no retry can cure (spec §7): bad request, unauthenticated, forbidden. */
const permanentStatuses: ReadonlySet<unknown> = new Set([400, 401, 403]);

/**
 * The error of the `error` event (context `fetch`) a worker emits when it stops by itself, because polling
 * on could never fetch a task:
 * - `FETCH_REFUSED`: a fetch answered 400, 401 or 403, which the same call will answer again. `cause` is
 *   the API's error; the message says what happened ("the service refused this worker's identity (401)")
 *   and what to change.
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
  static fetchRefused(error: unknown): WorkerHaltedError | undefined {
    const status = (error as { status?: unknown } | null)?.status;
    if (!permanentStatuses.has(status)) return undefined;
    const what =
      status === 401
        ? "The service refused this worker's identity (401): check the token it sends — the worker's " +
          '`identity` option, or the `token` of its HttpExternalTaskClient (missing, revoked or wrong?)'
        : status === 403
          ? "The service refused this worker's fetch (403): its identity may not fetch these topics; " +
            'change the identity or the `topic` option'
          : "The service refused this worker's fetch as a bad request (400): change the worker option it names";
    const said = error instanceof Error ? ` It said: ${error.message}` : '';
    return new WorkerHaltedError(
      'FETCH_REFUSED',
      `${what}. The worker stopped: it would be refused again.${said}`,
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
