import type { ExternalTaskService } from '../../api/index.js';
import type { ExternalTask } from '../../model/index.js';
import { externalTaskRoutes } from './external-task-routes.js';
import { resolveHttpHandlerOptions, type HttpHandlerOptions } from './http-handler-options.js';
import type { RequestContext } from './request-context.js';
import { routeListener, type HttpRequestListener } from './route-listener.js';
import { Router } from './router.js';

/**
 * Serves an {@link ExternalTaskService} (usually the in-process `ExternalTaskApi`, typed by a topic map
 * or not) over HTTP, under
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
 * `Authorization: Bearer <token>` becomes the identity (`options.identify`); without `identify` or an api
 * `accessPolicy` that checks tokens, the handler is refused unless `options.allowAnyToken` is `true`. A fetch answers 200 with the
 * tasks; the writes answer 204. Refusals answer their status with `{ code, message, argument? }`; a
 * failure nobody could prevent answers 500 without details and is logged. The listener never throws.
 *
 * @example
 * ```ts
 * const workers = new Map([['secret-of-billing', { token: 'billing' }]]);
 * const api = new ExternalTaskApi({ repository: new InMemoryExternalTaskRepository() });
 * const server = http.createServer(createHttpHandler(api, { identify: (token) => workers.get(token ?? '') }));
 * server.listen(8080);
 * ```
 * @throws TypeError or RangeError naming a bad option, or when nothing checks the tokens
 */
export function createHttpHandler(
  api: ExternalTaskService<ExternalTask<unknown, unknown>>,
  options: HttpHandlerOptions = {},
): HttpRequestListener {
  const resolved = resolveHttpHandlerOptions(api, options);
  // Whatever the api's topic map declares, what it hands out is JSON (its store holds nothing else).
  const routes = externalTaskRoutes(api as ExternalTaskService);
  return routeListener(new Router<RequestContext>(resolved.basePath, routes), resolved);
}
