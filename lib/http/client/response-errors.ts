import type { ExternalTaskError } from '../../errors/index.js';
import {
  BadRequestError,
  ForbiddenError,
  GoneError,
  InternalError,
  LockedError,
  NotFoundError,
  UnauthorizedError,
} from '../../errors/index.js';
import type { ErrorBody } from '../wire/error-response.js';
import { HttpServerRefusalError } from '../server/http-server-refusal-error.js';
import { HttpClientTransportError } from './http-client-transport-error.js';
import type { ArgumentRenames } from '../wire/wire-arguments.js';

/** What the client knows of the call an error answered. */
export interface AnsweredCall {
  /** The task the call was about, if any. */
  readonly externalTaskId?: string | undefined;
  /** The calling worker. */
  readonly workerId?: string | undefined;
  /** Body field names to report by their interface name (the renames back). */
  readonly renames?: ArgumentRenames | undefined;
}

/**
 * The library's error for an error answer of the API: the same class, `status`, `code` and `argument`
 * as the in-process API would throw. An answer that is not the API's error body (a proxy's page, an
 * unknown status) is an {@link HttpClientTransportError} of kind `response`.
 */
export function errorFromResponse(status: number, body: unknown, call: AnsweredCall): ExternalTaskError {
  if (!isErrorBody(body)) {
    return new HttpClientTransportError(
      'response',
      `The server answered ${status} without an error of the External Task API.`,
    );
  }
  const { message } = body;
  const externalTaskId = body.externalTaskId ?? call.externalTaskId ?? '';
  switch (body.code) {
    case 'BAD_REQUEST': {
      const argument = body.argument ?? 'body';
      const renamed = call.renames?.[argument];
      return renamed === undefined
        ? new BadRequestError(argument, message)
        : new BadRequestError(renamed, message.split(argument).join(renamed));
    }
    case 'UNAUTHORIZED':
      return new UnauthorizedError(message);
    case 'FORBIDDEN':
      return new ForbiddenError(message);
    case 'TASK_NOT_FOUND':
      return new NotFoundError(externalTaskId);
    case 'TASK_GONE':
      return new GoneError(externalTaskId, isFinalState(body.state) ? body.state : 'failed');
    case 'TASK_LOCKED':
      return new LockedError(
        externalTaskId,
        body.workerId ?? call.workerId ?? '',
        body.lockedBy,
        body.lockExpirationTime === undefined ? undefined : new Date(body.lockExpirationTime),
      );
    case 'INTERNAL_ERROR':
      return new InternalError(message);
    default:
      return HttpServerRefusalError.isCode(body.code)
        ? new HttpServerRefusalError(body.code, message)
        : new HttpClientTransportError(
            'response',
            `The server answered ${status} with an unknown error: ${message}`,
          );
  }
}

function isErrorBody(body: unknown): body is ErrorBody {
  const candidate = body as Partial<ErrorBody> | null;
  return typeof candidate?.code === 'string' && typeof candidate.message === 'string';
}

function isFinalState(state: unknown): state is 'finished' | 'failed' | 'cancelled' {
  return state === 'finished' || state === 'failed' || state === 'cancelled';
}
