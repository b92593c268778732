export { bearerToken, tokenIdentity, type IdentifyCaller } from './server/bearer-identity.js';
export { createHttpHandler } from './server/http-handler.js';
export type { HttpRequestListener } from './server/route-listener.js';
export { httpHandlerDefaults, type HttpHandlerOptions } from './server/http-handler-options.js';
export {
  HttpExternalTaskClient,
  type HttpExternalTaskClientOptions,
} from './client/http-external-task-client.js';
export { HttpServerRefusalError, type HttpServerRefusalCode } from './server/http-server-refusal-error.js';
export { HttpClientTransportError, type HttpTransportFailure } from './client/http-client-transport-error.js';
export type { ErrorBody } from './wire/error-response.js';
export { openApiDocument } from './wire/openapi-document.js';
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
