import { ExternalTaskError } from '../../errors/index.js';

/** Why the server's HTTP handler refused a request before it reached an operation. */
export type HttpServerRefusalCode =
  | 'ROUTE_NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'REQUEST_TIMEOUT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE';

const statusOf: Readonly<Record<HttpServerRefusalCode, number>> = {
  ROUTE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
};

/**
 * The server side's refusal: a request the HTTP handler refused as a request (an unknown route, a wrong method, a body too large, too
 * slow or not JSON), before any operation ran; nothing was changed. Malformed JSON and a body that is not
 * an object are `BadRequestError`s (400) naming `body`. A client receives it with the same `status`
 * and `code`.
 */
export class HttpServerRefusalError extends ExternalTaskError {
  readonly status: number;

  constructor(
    readonly code: HttpServerRefusalCode,
    message: string,
    /** For `METHOD_NOT_ALLOWED`: the methods the route answers (the `Allow` header). */
    readonly allow?: readonly string[],
  ) {
    super(message);
    this.status = statusOf[code];
  }

  /** Whether `code` is one of {@link HttpServerRefusalCode}. */
  static isCode(code: unknown): code is HttpServerRefusalCode {
    return typeof code === 'string' && Object.hasOwn(statusOf, code);
  }
}
