/*
 * The names `external-task-api/http` gave its errors before they said which side they come from, kept for
 * one minor version so that no code importing them breaks. Each is the very class of its new name.
 */
import { HttpClientTransportError } from '../http/client/http-client-transport-error.js';
import {
  HttpServerRefusalError,
  type HttpServerRefusalCode,
} from '../http/server/http-server-refusal-error.js';

/** @deprecated Use `HttpServerRefusalError`; removed in the next minor version. */
export const HttpRequestError = HttpServerRefusalError;
/** @deprecated Use `HttpServerRefusalError`; removed in the next minor version. */
export type HttpRequestError = HttpServerRefusalError;
/** @deprecated Use `HttpServerRefusalCode`; removed in the next minor version. */
export type HttpRequestErrorCode = HttpServerRefusalCode;
/** @deprecated Use `HttpClientTransportError`; removed in the next minor version. */
export const HttpTransportError = HttpClientTransportError;
/** @deprecated Use `HttpClientTransportError`; removed in the next minor version. */
export type HttpTransportError = HttpClientTransportError;
