import { ExternalTaskError } from '../../errors/index.js';

/** What went wrong on the way: no connection, no answer in time, or an answer that was not the API's. */
export type HttpTransportFailure = 'network' | 'timeout' | 'response';

/**
 * The client side's failure: a call of {@link HttpExternalTaskClient} that got no answer from the API: the server was unreachable
 * or the connection broke (`network`), it did not answer within the request timeout (`timeout`), or
 * something else answered (`response`: e.g. a proxy's 502 page). The operation may or may not have taken
 * effect. Its `status` is 503, so an `ExternalTaskWorker` treats it as passing: it backs off and
 * fetches again. `cause` holds the underlying error.
 */
export class HttpClientTransportError extends ExternalTaskError {
  readonly status = 503;
  readonly code = 'HTTP_TRANSPORT_FAILED';

  constructor(
    readonly failure: HttpTransportFailure,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
