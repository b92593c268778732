import type { ExternalTaskState } from '../model/index.js';

/**
 * Base class of every error the library raises on purpose. `status` is the HTTP-like status of the
 * specification; `code` is stable and meant for programs (messages are for people and may change).
 */
export abstract class ExternalTaskError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** 400: an argument is missing, of the wrong type or out of range. Nothing was changed. */
export class BadRequestError extends ExternalTaskError {
  readonly status = 400;
  readonly code = 'BAD_REQUEST';

  /** @param argument - the name of the offending argument, e.g. `maxTasks` or `result.items[2]`. */
  constructor(
    readonly argument: string,
    message: string,
  ) {
    super(message);
  }
}

/** 401: the caller is not authenticated (for the default policy: no identity, or no token). */
export class UnauthorizedError extends ExternalTaskError {
  readonly status = 401;
  readonly code = 'UNAUTHORIZED';
}

/** 403: the caller is authenticated but may not use external tasks (or this operation). */
export class ForbiddenError extends ExternalTaskError {
  readonly status = 403;
  readonly code = 'FORBIDDEN';
}

/** 404: no task with this id exists, or the caller may not see it. */
export class NotFoundError extends ExternalTaskError {
  readonly status = 404;
  readonly code = 'TASK_NOT_FOUND';

  constructor(readonly externalTaskId: string) {
    super(`External task ${externalTaskId} does not exist.`);
  }
}

/** 410: the task already has an outcome and can no longer be changed. */
export class GoneError extends ExternalTaskError {
  readonly status = 410;
  readonly code = 'TASK_GONE';

  constructor(
    readonly externalTaskId: string,
    readonly state: Exclude<ExternalTaskState, 'pending'>,
  ) {
    super(
      state === 'cancelled'
        ? `External task ${externalTaskId} was cancelled by the engine and can no longer be changed.`
        : `External task ${externalTaskId} is already ${state} and can no longer be changed.`,
    );
  }
}

/** 423: the task is locked by another worker, or was never locked by the calling worker. */
export class LockedError extends ExternalTaskError {
  readonly status = 423;
  readonly code = 'TASK_LOCKED';

  constructor(
    readonly externalTaskId: string,
    readonly workerId: string,
    /** The worker that most recently locked the task, if any. */
    readonly lockedBy: string | undefined,
    readonly lockExpirationTime: Date | undefined,
  ) {
    super(
      lockedBy === undefined
        ? `External task ${externalTaskId} is not locked by worker ${workerId}: nobody has locked it.`
        : `External task ${externalTaskId} is not locked by worker ${workerId}: worker ${lockedBy} locked it` +
            (lockExpirationTime ? ` until ${lockExpirationTime.toISOString()}.` : '.'),
    );
  }
}

/** 500: something failed that the caller could not have prevented (e.g. the store). `cause` says what. */
export class InternalError extends ExternalTaskError {
  readonly status = 500;
  readonly code = 'INTERNAL_ERROR';
}

/**
 * 410: a change feed was asked to resume after a position older than the store retains; the changes in
 * between are gone. The subscriber must re-read the state it keeps, then subscribe from the current end.
 */
export class ChangeFeedRetentionError extends ExternalTaskError {
  readonly status = 410;
  readonly code = 'CHANGE_FEED_RETENTION_EXCEEDED';

  constructor(
    /** The position the subscriber asked to resume after. */
    readonly after: number,
    /** The oldest position the store can still resume after. */
    readonly oldestResumable: number,
  ) {
    super(
      `The change feed cannot resume after position ${after}: the store retains changes after ` +
        `${oldestResumable} only. Re-read the state you keep, then subscribe from the current end.`,
    );
  }
}

/**
 * `error` as the library's error: its own errors as they are; anything else — a failure nobody could
 * have prevented by their arguments — as an {@link InternalError} (500) saying `what` failed, with the
 * original as `cause`.
 */
export function asExternalTaskError(error: unknown, what: string): ExternalTaskError {
  if (error instanceof ExternalTaskError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new InternalError(`${what}: ${message}`, { cause: error });
}
