import type { ExternalTaskService, ServiceErrorOptions } from '../../api/index.js';
import { fetchAndLockRoute } from './fetch-route.js';
import { sendJson, sendNoContent } from './json-response.js';
import { openApiDocument } from '../wire/openapi-document.js';
import type { RequestContext } from './request-context.js';
import type { Route } from './router.js';
import { renameArgument, serviceErrorArguments } from '../wire/wire-arguments.js';

/** The path, under the base path, of the OpenAPI document describing the routes. */
export const openApiPath = '/openapi.json';

const idParam = 'external_task_id';

/**
 * The routes of the specification (§6) and the operations beyond it, each calling one operation of
 * `api`. Fields are handed on as they came: the API checks them and names a bad one in its 400; fields it
 * does not know are ignored. Writes answer 204 without a body.
 */
export function externalTaskRoutes(api: ExternalTaskService): Route<RequestContext>[] {
  const onTask = (
    action: string,
    write: (context: RequestContext, id: string, body: Record<string, unknown>) => Promise<void>,
  ): Route<RequestContext> => ({
    method: 'POST',
    path: `/task/:${idParam}/${action}`,
    handle: async (context, params) => {
      await write(context, params[idParam]!, await context.body());
      sendNoContent(context.res);
    },
  });
  const serviceError = onTask('handle_service_error', async (context, id, body) => {
    const identity = await context.identity();
    const options: ServiceErrorOptions | undefined =
      body.retries === undefined && body.retryTimeout === undefined
        ? undefined
        : ({ retries: body.retries, retryTimeout: body.retryTimeout } as ServiceErrorOptions);
    try {
      await api.handleServiceError(
        identity,
        body.workerId as string,
        id,
        body.errorMessage as string,
        body.errorDetails,
        options,
      );
    } catch (error) {
      throw renameArgument(error, serviceErrorArguments);
    }
  });
  return [
    { method: 'POST', path: '/fetch_and_lock', handle: (context) => fetchAndLockRoute(api, context) },
    onTask('extend_lock', async (context, id, body) =>
      api.extendLock(
        await context.identity(),
        body.workerId as string,
        id,
        body.additionalDuration as number,
      ),
    ),
    onTask('finish', async (context, id, body) =>
      api.finishExternalTask(await context.identity(), body.workerId as string, id, body.result),
    ),
    onTask('handle_bpmn_error', async (context, id, body) =>
      api.handleBpmnError(
        await context.identity(),
        body.workerId as string,
        id,
        body.errorCode as string,
        body.errorMessage as string | undefined,
      ),
    ),
    serviceError,
    // The concept paper's name of the same route.
    { ...serviceError, path: `/task/:${idParam}/handle_system_error` },
    onTask('unlock', async (context, id, body) =>
      api.unlock(await context.identity(), body.workerId as string, id),
    ),
    {
      method: 'GET',
      path: openApiPath,
      handle: (context) => Promise.resolve(sendJson(context.res, 200, openApiDocument)),
    },
  ];
}
