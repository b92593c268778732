import type { ExternalTaskService, FetchAndLockOptions, ServiceErrorOptions } from '../../api/index.js';
import type { Identity, TaskOf, TopicMap, UntypedTopics } from '../../model/index.js';
import {
  validateAdditionalDuration,
  validateBpmnError,
  validateFetchOptions,
  validateHeldTask,
  validatePositionalFetch,
  validateResult,
  validateRetry,
  validateServiceError,
  type HeldTaskIds,
} from '../../api/request-validation.js';
import { describeValue, limits } from '../../validation/index.js';
import { HttpClientTransportError } from './http-client-transport-error.js';
import { errorFromResponse, type AnsweredCall } from './response-errors.js';
import { tasksFromResponse } from './task-records.js';
import { reversed, serviceErrorArguments } from '../wire/wire-arguments.js';

/** Options of {@link HttpExternalTaskClient}. */
export interface HttpExternalTaskClientOptions {
  /**
   * The API's URL up to and including `/api/external_task/v1`, e.g. `http://engine:8080/api/external_task/v1`;
   * no credentials, query or fragment (the identity travels as the bearer token).
   */
  readonly baseUrl: string | URL;
  /** The bearer token to send when a call's identity carries none. */
  readonly token?: string | undefined;
  /** Like `token`, as an identity: its `token` is sent when a call's identity carries none. */
  readonly identity?: Identity | undefined;
  /** The fetch to use (e.g. one with a custom dispatcher). @default globalThis.fetch (keep-alive connections) */
  readonly fetch?: typeof fetch | undefined;
  /**
   * How long the server may take to answer, in ms; a fetch may take its `longPollingTimeout` longer.
   * Beyond it the call fails with an {@link HttpClientTransportError} of kind `timeout`.
   * @default 30000
   */
  readonly requestTimeout?: number | undefined;
}

/**
 * The {@link ExternalTaskService} of a remote engine: every call is a request to a server mounting
 * {@link createHttpHandler}, so an `ExternalTaskWorker` works the same against either. Errors come
 * back as the classes the in-process API throws, with the same `status`, `code` and `argument`; a call
 * that gets no answer fails with an {@link HttpClientTransportError} (503), which the worker backs off from.
 * Arguments are checked before anything is sent, with the in-process API's own checks: a value it refuses
 * (a BigInt, a cyclic or oversized result, an id that is no string) is refused here with the same
 * `BadRequestError` (400) naming it, without a request, never as a transport failure to retry.
 *
 * The bearer token is the call's `identity.token`, else the configured `token` (or `identity.token`);
 * other claims of an identity do not travel (the server derives the identity from the token). A fetch's
 * `signal` ends its long poll at once with `[]`; the server then unlocks whatever it claimed meanwhile.
 *
 * Like `ExternalTaskApi<Topics>`, it takes the engine's topic map (see {@link TopicMap}) as a type
 * argument, so that its fetches, and the workers over it, are typed by it.
 * @typeParam Topics - The engine's topic map. @default UntypedTopics (any topic, JSON values)
 *
 * @example
 * ```ts
 * const client = new HttpExternalTaskClient({ baseUrl: 'http://engine:8080/api/external_task/v1', token: 'secret' });
 * const worker = new ExternalTaskWorker(client, { topic: 'send-invoice', handler: async (task) => ({ sent: true }) });
 * await worker.start();
 * ```
 */
export class HttpExternalTaskClient<
  Topics extends TopicMap<Topics> = UntypedTopics,
> implements ExternalTaskService<TaskOf<Topics>> {
  private readonly baseUrl: string;
  private readonly token: string | undefined;
  private readonly fetch: typeof fetch;
  private readonly requestTimeout: number;

  /** @throws TypeError or RangeError naming a bad option */
  constructor(options: HttpExternalTaskClientOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(
        `HttpExternalTaskClient: options must be an object, got ${describeValue(options)}.`,
      );
    }
    this.baseUrl = parseBaseUrl(options.baseUrl);
    const { identity } = options as { identity?: unknown };
    if (identity != null && (typeof identity !== 'object' || Array.isArray(identity))) {
      throw new TypeError(
        `HttpExternalTaskClient: identity must be an object, got ${describeValue(identity)}.`,
      );
    }
    const token = options.token ?? options.identity?.token;
    if (token !== undefined && (typeof token !== 'string' || token === '')) {
      throw new TypeError(
        `HttpExternalTaskClient: token must be a non-empty string, got ${describeValue(token)}.`,
      );
    }
    this.token = token;
    const fetchFunction = options.fetch ?? globalThis.fetch;
    if (typeof fetchFunction !== 'function') {
      throw new TypeError('HttpExternalTaskClient: fetch must be a function (Node 20 has one built in).');
    }
    this.fetch = fetchFunction;
    const requestTimeout = options.requestTimeout ?? 30_000;
    if (!Number.isSafeInteger(requestTimeout) || requestTimeout < 1 || requestTimeout > limits.maxDuration) {
      throw new RangeError(
        `HttpExternalTaskClient: requestTimeout must be an integer from 1 to ${limits.maxDuration}, got ${describeValue(requestTimeout)}.`,
      );
    }
    this.requestTimeout = requestTimeout;
  }

  async fetchAndLockExternalTasks(
    identity: Identity | undefined,
    workerId: string,
    topicName: TaskOf<Topics>['topic'],
    maxTasks: number,
    longPollingTimeout: number,
    lockDuration: number,
  ): Promise<TaskOf<Topics>[]> {
    validatePositionalFetch(workerId, topicName, maxTasks, longPollingTimeout, lockDuration);
    const body = { workerId, topicName, maxTasks, longPollingTimeout, lockDuration };
    return tasksFromResponse(
      await this.call(identity, '/fetch_and_lock', body, { workerId }, longPollingTimeout),
    );
  }

  async fetchAndLock(
    identity: Identity | undefined,
    options: FetchAndLockOptions<TaskOf<Topics>['topic']>,
  ): Promise<TaskOf<Topics>[]> {
    const { signal, ...body } = validateFetchOptions(options);
    // As in process: a poll whose signal has aborted claims nothing and answers [].
    if (signal?.aborted) return [];
    try {
      const answer = await this.call(
        identity,
        '/fetch_and_lock',
        body,
        { workerId: body.workerId },
        body.longPollingTimeout,
        signal,
      );
      return tasksFromResponse(answer);
    } catch (error) {
      if (signal?.aborted) return [];
      throw error;
    }
  }

  async extendLock(
    identity: Identity | undefined,
    workerId: string,
    externalTaskId: string,
    additionalDuration: number,
  ): Promise<void> {
    const ids = validateHeldTask(workerId, externalTaskId);
    await this.onTask(identity, ids, 'extend_lock', {
      additionalDuration: validateAdditionalDuration(additionalDuration),
    });
  }

  async finishExternalTask(
    identity: Identity | undefined,
    workerId: string,
    externalTaskId: string,
    result: unknown,
  ): Promise<void> {
    const ids = validateHeldTask(workerId, externalTaskId);
    const copy = validateResult(result);
    await this.onTask(identity, ids, 'finish', copy === undefined ? {} : { result: copy });
  }

  async handleBpmnError(
    identity: Identity | undefined,
    workerId: string,
    externalTaskId: string,
    errorCode: string,
    errorMessage?: string,
  ): Promise<void> {
    const ids = validateHeldTask(workerId, externalTaskId);
    const { type: _bpmn, ...failure } = validateBpmnError(errorCode, errorMessage);
    await this.onTask(identity, ids, 'handle_bpmn_error', failure);
  }

  async handleServiceError(
    identity: Identity | undefined,
    workerId: string,
    externalTaskId: string,
    errorMessage: string,
    errorDetails?: unknown,
    options?: ServiceErrorOptions,
  ): Promise<void> {
    const ids = validateHeldTask(workerId, externalTaskId);
    const { type: _service, ...failure } = validateServiceError(errorMessage, errorDetails);
    const retry = validateRetry(options);
    await this.onTask(
      identity,
      ids,
      'handle_service_error',
      { ...failure, ...retry },
      reversed(serviceErrorArguments),
    );
  }

  /**
   * {@link handleServiceError} under the specification's other name (§3.5: the concept paper's "handle
   * system errors"), sent to its route alias `handle_system_error`. Part of the API, not deprecated.
   */
  async handleSystemError(
    identity: Identity | undefined,
    workerId: string,
    externalTaskId: string,
    errorMessage: string,
    errorDetails?: unknown,
    options?: ServiceErrorOptions,
  ): Promise<void> {
    await this.handleServiceError(identity, workerId, externalTaskId, errorMessage, errorDetails, options);
  }

  async unlock(identity: Identity | undefined, workerId: string, externalTaskId: string): Promise<void> {
    await this.onTask(identity, validateHeldTask(workerId, externalTaskId), 'unlock', {});
  }

  /** POSTs `body` and the worker's id to the route of `action` on the task. */
  private async onTask(
    identity: Identity | undefined,
    { workerId, externalTaskId }: HeldTaskIds,
    action: string,
    body: Readonly<Record<string, unknown>>,
    renames?: Readonly<Record<string, string>>,
  ): Promise<void> {
    const path = `/task/${encodeURIComponent(externalTaskId)}/${action}`;
    await this.call(identity, path, { workerId, ...body }, { externalTaskId, workerId, renames });
  }

  /**
   * POSTs `body` as JSON and answers the parsed JSON answer (`undefined` for 204). Waits up to the request
   * timeout, plus `longPoll` ms for a fetch.
   */
  private async call(
    identity: Identity | undefined,
    path: string,
    body: object,
    answered: AnsweredCall,
    longPoll = 0,
    signal?: AbortSignal,
  ): Promise<unknown> {
    // The arguments were checked, so the body is JSON; a failure here is never taken for the network's.
    const json = JSON.stringify(body);
    const timeout = this.requestTimeout + longPoll;
    const token = typeof identity?.token === 'string' && identity.token !== '' ? identity.token : this.token;
    // One controller for the caller's signal and the timeout, unhooked from the caller's signal when the
    // call ends: a worker passes the same long-lived signal to every fetch.
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(
      () => {
        timedOut = true;
        controller.abort(new DOMException('The request timed out.', 'TimeoutError'));
      },
      Math.min(timeout, limits.maxDuration),
    );
    let response: Response;
    let text: string;
    try {
      response = await this.fetch(this.baseUrl + path, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...(token !== undefined && { authorization: `Bearer ${token}` }),
        },
        body: json,
        signal: controller.signal,
      });
      text = await response.text();
    } catch (error) {
      if (signal?.aborted) throw error;
      throw timedOut
        ? new HttpClientTransportError('timeout', `The server did not answer within ${timeout} ms.`, {
            cause: error,
          })
        : new HttpClientTransportError(
            'network',
            `The request to the External Task API failed: ${(error as Error).message}`,
            { cause: error },
          );
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
    const parsed = parseJson(text);
    if (!response.ok) throw errorFromResponse(response.status, parsed, answered);
    // A success in something else than JSON (a catch-all page) is not the API's: nothing was done.
    if (parsed === notJson) {
      throw new HttpClientTransportError(
        'response',
        `The server answered ${response.status} with something else than JSON, not as the External Task API.`,
      );
    }
    return parsed;
  }
}

/** What {@link parseJson} answers for a body that is not JSON. */
const notJson = Symbol('not JSON');

/** The JSON value of a body; `undefined` for none. */
function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return notJson;
  }
}

function parseBaseUrl(baseUrl: unknown): string {
  let url: URL;
  try {
    url = new URL(String(baseUrl));
  } catch {
    throw new TypeError(
      `HttpExternalTaskClient: baseUrl must be an absolute http(s) URL, got ${describeValue(baseUrl)}.`,
    );
  }
  if ((typeof baseUrl !== 'string' && !(baseUrl instanceof URL)) || !/^https?:$/.test(url.protocol)) {
    throw new TypeError(
      `HttpExternalTaskClient: baseUrl must be an absolute http(s) URL, got ${describeValue(baseUrl)}.`,
    );
  }
  // fetch refuses credentials in a URL (on every call, naming the URL); the token carries the identity.
  if (url.username !== '' || url.password !== '') {
    throw new TypeError(
      'HttpExternalTaskClient: baseUrl must not carry credentials (user:password@); pass a token instead.',
    );
  }
  if (url.search !== '' || url.hash !== '') {
    throw new TypeError(
      `HttpExternalTaskClient: baseUrl must end with the API's path, without a query or fragment, got ${describeValue(url.href)}.`,
    );
  }
  return url.href.replace(/\/+$/, '');
}
