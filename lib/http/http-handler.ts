import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExternalTaskService } from '../api/index.js';
import type { Identity } from '../model/index.js';
import { bearerToken } from './bearer-identity.js';
import { clientDisconnectSignal } from './disconnect-signal.js';
import { pathOf, sendError } from './error-response.js';
import { externalTaskRoutes } from './external-task-routes.js';
import { resolveHttpHandlerOptions, type HttpHandlerOptions } from './http-handler-options.js';
import { readJsonObject } from './request-body.js';
import type { RequestContext } from './request-context.js';
import { Router } from './router.js';

/**
 * A Node request listener: `(req, res)` for `http.createServer`, and `(req, res, next)` for Express and
 * Connect-style middleware, which hands requests outside the base path on to `next`.
 */
export type HttpRequestListener = (req: IncomingMessage, res: ServerResponse, next?: () => void) => void;

/**
 * Serves an {@link ExternalTaskService} (usually the in-process `ExternalTaskApi`) over HTTP, under
 * `/api/external_task/v1` (see docs/deployment.md and docs/openapi.json):
 *
 * | route | body |
 * |---|---|
 * | `POST /fetch_and_lock` | `{ workerId, topicName, maxTasks, longPollingTimeout, lockDuration }` or `{ workerId, topics: [{ topicName, lockDuration }], maxTasks, longPollingTimeout? }` |
 * | `POST /task/:external_task_id/extend_lock` | `{ workerId, additionalDuration }` |
 * | `POST /task/:external_task_id/finish` | `{ workerId, result? }` |
 * | `POST /task/:external_task_id/handle_bpmn_error` | `{ workerId, errorCode, errorMessage? }` |
 * | `POST /task/:external_task_id/handle_service_error` (alias `handle_system_error`) | `{ workerId, errorMessage, errorDetails?, retries?, retryTimeout? }` |
 * | `POST /task/:external_task_id/unlock` | `{ workerId }` |
 * | `GET /openapi.json` | — |
 *
 * `Authorization: Bearer <token>` becomes the identity (`options.identify`). A fetch answers 200 with the
 * tasks; the writes answer 204. Refusals answer their status with `{ code, message, argument? }`; a
 * failure nobody could prevent answers 500 without details and is logged. The listener never throws.
 *
 * @example
 * ```ts
 * const api = new ExternalTaskApi({ repository: new InMemoryExternalTaskRepository() });
 * const server = http.createServer(createHttpHandler(api));
 * server.listen(8080);
 * ```
 * @throws TypeError or RangeError naming a bad option
 */
export function createHttpHandler(
  api: ExternalTaskService,
  options: HttpHandlerOptions = {},
): HttpRequestListener {
  const { identify, logger, basePath, maxBodyBytes, bodyTimeout } = resolveHttpHandlerOptions(options);
  const router = new Router<RequestContext>(basePath, externalTaskRoutes(api));

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
      body: () => readJsonObject(req, { maxBytes: maxBodyBytes, timeout: bodyTimeout }),
      identity: () => (identity ??= Promise.resolve(identify(bearerToken(req), req))),
    };
    await route.handle(context, params);
  };

  return (req, res, next) => {
    if (next && !router.owns(pathOf(req))) {
      next();
      return;
    }
    handle(req, res).catch((error: unknown) => sendError(req, res, error, logger));
  };
}
