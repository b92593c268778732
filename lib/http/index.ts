export { bearerToken, tokenIdentity, type IdentifyCaller } from './bearer-identity.js';
export { createHttpHandler } from './http-handler.js';
export type { HttpRequestListener } from './route-listener.js';
export { httpHandlerDefaults, type HttpHandlerOptions } from './http-handler-options.js';
export { HttpExternalTaskClient, type HttpExternalTaskClientOptions } from './http-external-task-client.js';
export { HttpServerRefusalError, type HttpServerRefusalCode } from './http-server-refusal-error.js';
export { HttpClientTransportError, type HttpTransportFailure } from './http-client-transport-error.js';
export type { ErrorBody } from './error-response.js';
export { openApiDocument } from './openapi-document.js';
export {
  camundaRestHandlerDefaults,
  createCamundaRestHandler,
  type CamundaRestHandlerOptions,
} from './camunda/camunda-rest-handler.js';
export type { CamundaRestService } from './camunda/camunda-rest-service.js';
export {
  HttpRequestError,
  HttpTransportError,
  type HttpRequestErrorCode,
} from '../deprecated/http-aliases.js';
