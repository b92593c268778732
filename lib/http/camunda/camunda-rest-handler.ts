import type { ExternalTaskService } from '../../api/index.js';
import type { HttpHandlerOptions } from '../server/http-handler-options.js';
import { resolveHttpHandlerOptions } from '../server/http-handler-options.js';
import type { RequestContext } from '../server/request-context.js';
import { routeListener, type HttpRequestListener } from '../server/route-listener.js';
import { Router } from '../server/router.js';
import { camundaErrorAnswer } from './camunda-error-answer.js';
import type { CamundaRestService } from './camunda-rest-service.js';
import { camundaRoutes } from './camunda-routes.js';

/** Options of {@link createCamundaRestHandler}: those of `createHttpHandler`, with another base path. */
export interface CamundaRestHandlerOptions extends HttpHandlerOptions {
  /** The path the routes live under, as Camunda's `baseUrl` ends. @default '/engine-rest' */
  readonly basePath?: string | undefined;
}

/** The defaults of {@link CamundaRestHandlerOptions} that differ from `createHttpHandler`'s. */
export const camundaRestHandlerDefaults = Object.freeze({ basePath: '/engine-rest' });

/**
 * Serves the api to workers written for Camunda 7 (e.g. with `camunda-external-task-client-js`), with
 * Camunda's routes and JSON shapes, under `/engine-rest` (see docs/deployment.md, "Camunda 7 workers"):
 *
 * | route | body |
 * |---|---|
 * | `POST /external-task/fetchAndLock` | `{ workerId, maxTasks, usePriority?, asyncResponseTimeout?, topics: [{ topicName, lockDuration, variables? }] }` |
 * | `POST /external-task/{id}/complete` | `{ workerId, variables?, localVariables? }` |
 * | `POST /external-task/{id}/failure` | `{ workerId, errorMessage?, errorDetails?, retries?, retryTimeout? }` |
 * | `POST /external-task/{id}/bpmnError` | `{ workerId, errorCode, errorMessage? }` |
 * | `POST /external-task/{id}/extendLock` | `{ workerId, newDuration }` |
 * | `POST /external-task/{id}/unlock` | — |
 *
 * A fetch answers 200 with Camunda's locked tasks, the payload's top-level properties as typed variables
 * `{ value, type, valueInfo }`; a complete's variables become the task's result object. The writes
 * answer 204; refusals answer Camunda's status with `{ type, message }`. Identity (a token check or
 * `allowAnyToken` required), body limits, long polls and clients that go away work as with
 * `createHttpHandler`, and so does mounting.
 *
 * @example
 * ```ts
 * const api = new ExternalTaskApi({ repository: new InMemoryExternalTaskRepository() });
 * const identify = (token?: string) => (token === process.env.WORKER_TOKEN ? { token } : undefined);
 * http.createServer(createCamundaRestHandler(api, { identify })).listen(8080);
 * // a worker: new Client({ baseUrl: 'http://localhost:8080/engine-rest', interceptors: bearer })
 * ```
 * @throws TypeError or RangeError naming a bad option, or when nothing checks the tokens
 */
export function createCamundaRestHandler(
  api: CamundaRestService,
  options: CamundaRestHandlerOptions = {},
): HttpRequestListener {
  const resolved = resolveHttpHandlerOptions(api, options, {
    name: 'createCamundaRestHandler',
    basePath: camundaRestHandlerDefaults.basePath,
  });
  // Whatever the api's topic map declares, what it hands out is JSON (its store holds nothing else).
  const router = new Router<RequestContext>(resolved.basePath, camundaRoutes(api as ExternalTaskService));
  return routeListener(router, resolved, camundaErrorAnswer);
}
