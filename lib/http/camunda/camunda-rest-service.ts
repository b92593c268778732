import type { ExternalTaskService } from '../../api/index.js';
import type { ExternalTask } from '../../model/index.js';

/**
 * What `createCamundaRestHandler` serves: the worker's operations. Camunda's unlock, which names no worker,
 * finds the holder through them, within the caller's scope. The in-process `ExternalTaskApi` is one, and
 * so is an `HttpExternalTaskClient`, typed by a topic map or not.
 */
export type CamundaRestService = ExternalTaskService<ExternalTask<unknown, unknown>>;
