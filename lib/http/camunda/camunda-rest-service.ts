import type { EngineOperations, ExternalTaskService } from '../../api/index.js';

/**
 * What `createCamundaRestHandler` serves: the worker's operations, and reading a task by id, which
 * Camunda's unlock needs as it names no worker. The in-process `ExternalTaskApi` is one.
 */
export type CamundaRestService = ExternalTaskService & {
  readonly engine: Pick<EngineOperations, 'getById'>;
};
