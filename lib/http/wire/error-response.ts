import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  BadRequestError,
  ExternalTaskError,
  GoneError,
  LockedError,
  NotFoundError,
} from '../../errors/index.js';
import type { Logger } from '../../logging/index.js';
import { HttpServerRefusalError } from '../server/http-server-refusal-error.js';
import { sendJson } from '../server/json-response.js';

/**
 * The JSON body of an error answer. `code` is stable, for programs; `argument` names the offending field
 * of a 400. The other fields describe 404, 410 and 423 answers, so a client can rebuild the error.
 */
export interface ErrorBody {
  readonly code: string;
  readonly message: string;
  readonly argument?: string;
  readonly externalTaskId?: string;
  readonly state?: string;
  readonly workerId?: string;
  readonly lockedBy?: string;
  readonly lockExpirationTime?: string;
}

/** What a 500 says: nothing of the failure itself, which is logged instead. */
export const internalErrorMessage = 'The server failed to handle the request; the failure was logged.';

const internalErrorBody: ErrorBody = { code: 'INTERNAL_ERROR', message: internalErrorMessage };

/** How a route set answers an error: the status, the JSON body, and headers to add, if any. */
export interface ErrorAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Whether `error` is a refusal of the library's (a 4xx), not a failure to answer with a 500. */
export function isRefusal(error: unknown): error is ExternalTaskError {
  return error instanceof ExternalTaskError && error.status < 500;
}

/** The status and body that answer `error`; anything but a refusal of the library's is a 500. */
export function errorAnswer(error: unknown): { status: number; body: ErrorBody } {
  if (!isRefusal(error)) return { status: 500, body: internalErrorBody };
  const body: ErrorBody = { code: error.code, message: error.message, ...errorDetails(error) };
  return { status: error.status, body };
}

function errorDetails(error: ExternalTaskError): Partial<ErrorBody> {
  if (error instanceof BadRequestError) return { argument: error.argument };
  if (error instanceof NotFoundError) return { externalTaskId: error.externalTaskId };
  if (error instanceof GoneError) return { externalTaskId: error.externalTaskId, state: error.state };
  if (error instanceof LockedError) {
    return {
      externalTaskId: error.externalTaskId,
      workerId: error.workerId,
      ...(error.lockedBy !== undefined && { lockedBy: error.lockedBy }),
      ...(error.lockExpirationTime && { lockExpirationTime: error.lockExpirationTime.toISOString() }),
    };
  }
  return {};
}

/**
 * Answers `error` as JSON, as `answer` says (by default {@link errorAnswer}). A 500 is logged with the
 * error, the method and the path (never a header: the token stays out of logs). When the response cannot be sent any more (the client went away), a failure is logged
 * unless it was the client's own abort.
 */
export function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  error: unknown,
  logger: Logger,
  answer: (error: unknown) => ErrorAnswer = errorAnswer,
): void {
  if (res.headersSent || res.destroyed) {
    // Nobody to answer. The client's own going away is no failure; anything else still is.
    if (!(error instanceof DOMException && error.name === 'AbortError')) {
      logger.error(`${req.method ?? '?'} ${pathOf(req)} failed after its client had gone.`, { error });
    }
    return;
  }
  const { status, body, headers: answerHeaders } = answer(error);
  if (status === 500) {
    logger.error(`Answered 500 to ${req.method ?? '?'} ${pathOf(req)}: the request failed unexpectedly.`, {
      error,
    });
  }
  const headers: Record<string, string> = { ...answerHeaders };
  if (error instanceof HttpServerRefusalError && error.allow) headers.allow = error.allow.join(', ');
  sendJson(res, status, body, headers);
}

/** The path of a request without its query (which may carry anything). */
export function pathOf(req: IncomingMessage): string {
  const url = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
