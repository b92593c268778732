import type { ExternalTaskService } from '../../api/index.js';

/**
 * What `createCamundaRestHandler` serves: the worker's operations. Camunda's unlock, which names no worker,
 * finds the holder through them, within the caller's scope. The in-process `ExternalTaskApi` is one, and
 * so is an `HttpExternalTaskClient`.
 */
export type CamundaRestService = ExternalTaskService;
