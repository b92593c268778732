import {
  BadRequestError,
  ForbiddenError,
  GoneError,
  LockedError,
  NotFoundError,
  UnauthorizedError,
  type ExternalTaskError,
} from '../../errors/index.js';
import { internalErrorMessage, isRefusal, type ErrorAnswer } from '../wire/error-response.js';
import { HttpServerRefusalError, type HttpServerRefusalCode } from '../server/http-server-refusal-error.js';
import { camundaJsonHeaders } from './camunda-json.js';

/** Camunda's error body: the name of the exception class, and a message. */
export interface CamundaErrorBody {
  readonly type: string;
  readonly message: string;
}

/** The exception Camunda's REST layer (JAX-RS) names for each refusal of the HTTP layer. */
const requestErrorTypes: Readonly<Record<HttpServerRefusalCode, string>> = {
  ROUTE_NOT_FOUND: 'NotFoundException',
  METHOD_NOT_ALLOWED: 'NotAllowedException',
  REQUEST_TIMEOUT: 'RestException',
  PAYLOAD_TOO_LARGE: 'RestException',
  UNSUPPORTED_MEDIA_TYPE: 'NotSupportedException',
};

/**
 * The status and body `{ type, message }` that answer `error` as Camunda does: a task that does not
 * exist — or no longer does, having an outcome — is a 404, a task locked by another worker (or by
 * none) a 400, a bad argument a 400 `InvalidRequestException`; 401 and 403 as they are; anything else a
 * 500 that says nothing of the failure (it is logged).
 */
export function camundaErrorAnswer(error: unknown): ErrorAnswer {
  if (!isRefusal(error)) {
    return answer(500, { type: 'ProcessEngineException', message: internalErrorMessage });
  }
  const { status, type } = camundaStatus(error);
  return answer(status, { type, message: error.message });
}

function camundaStatus(error: ExternalTaskError): { status: number; type: string } {
  if (error instanceof NotFoundError || error instanceof GoneError)
    return { status: 404, type: 'RestException' };
  if (error instanceof LockedError) return { status: 400, type: 'RestException' };
  if (error instanceof BadRequestError) return { status: 400, type: 'InvalidRequestException' };
  if (error instanceof UnauthorizedError) return { status: 401, type: 'AuthenticationException' };
  if (error instanceof ForbiddenError) return { status: 403, type: 'AuthorizationException' };
  if (error instanceof HttpServerRefusalError)
    return { status: error.status, type: requestErrorTypes[error.code] };
  return { status: error.status, type: 'RestException' };
}

function answer(status: number, body: CamundaErrorBody): ErrorAnswer {
  return { status, body, headers: camundaJsonHeaders };
}
