import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Identity } from '../../model/index.js';
import { bearerToken } from './bearer-identity.js';
import { clientDisconnectSignal } from './disconnect-signal.js';
import { errorAnswer, pathOf, sendError, type ErrorAnswer } from '../wire/error-response.js';
import type { ResolvedHttpHandlerOptions } from './http-handler-options.js';
import { readJsonObject } from './request-body.js';
import type { RequestContext } from './request-context.js';
import type { Router } from './router.js';

/**
 * A Node request listener: `(req, res)` for `http.createServer`, and `(req, res, next)` for Express and
 * Connect-style middleware, which hands requests outside the base path on to `next`.
 */
export type HttpRequestListener = (req: IncomingMessage, res: ServerResponse, next?: () => void) => void;

/**
 * The listener serving the routes of `router`: it gives each request its {@link RequestContext} (body
 * and identity on demand, a signal for a client that goes away), and answers whatever a route throws as
 * `answer` says (404 and 405 for unknown routes and methods included). It never throws.
 */
export function routeListener(
  router: Router<RequestContext>,
  { identify, logger, maxBodyBytes, bodyTimeout }: ResolvedHttpHandlerOptions,
  answer: (error: unknown) => ErrorAnswer = errorAnswer,
): HttpRequestListener {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // Watched from the start: a client may go away while its body is still being read.
    const signal = clientDisconnectSignal(req, res);
    const { route, params } = router.match(req.method ?? '', pathOf(req));
    let identity: Promise<Identity | undefined> | undefined;
    const context: RequestContext = {
      req,
      res,
      logger,
      signal,
      // The caller is identified before its body is read: a refused token is answered at once, without
      // the server holding up to maxBodyBytes for up to bodyTimeout first.
      body: async () => {
        await context.identity();
        return readJsonObject(req, { maxBytes: maxBodyBytes, timeout: bodyTimeout });
      },
      identity: () => (identity ??= Promise.resolve(identify(bearerToken(req), req))),
    };
    await route.handle(context, params);
  };

  return (req, res, next) => {
    if (next && !router.owns(pathOf(req))) {
      next();
      return;
    }
    handle(req, res).catch((error: unknown) => sendError(req, res, error, logger, answer));
  };
}
