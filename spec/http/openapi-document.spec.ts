import { expect } from 'chai';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { ExternalTaskApi, InMemoryExternalTaskRepository } from '../../lib/index.js';
import { createHttpHandler, HttpExternalTaskClient, openApiDocument } from '../../lib/http/index.js';
import { identity, newTask, rejectionOf } from '../support/fixtures.js';
import { silentLogger } from '../worker/worker-fixtures.js';
import { listen, type RunningServer } from './transports.js';

const document = JSON.parse(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, Operation>>;
};

interface Operation {
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, { content?: Record<string, unknown> }>;
}

/** One exchange as it went over the wire. */
interface Exchange {
  method: string;
  path: string;
  requestBody: unknown;
  status: number;
  responseBody: unknown;
}

const base = '/api/external_task/v1';
const ajv = new Ajv2020({ strict: false, allErrors: true });
(addFormats as unknown as (instance: Ajv2020) => void)(ajv);
ajv.addSchema(document, 'openapi');

/** The JSON pointer of `segments` in the document. */
function pointer(...segments: string[]): string {
  return segments.map((segment) => segment.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
}

function check(value: unknown, ...at: string[]): void {
  const validate = ajv.compile({ $ref: `openapi#/${pointer(...at)}` });
  expect(
    validate(value),
    `${at.join(' ')}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value)}`,
  ).to.equal(true);
}

/** Finds the documented operation of an exchange, and validates both of its bodies against it. */
function validateExchange({ method, path, requestBody, status, responseBody }: Exchange): void {
  const relative = path.slice(base.length);
  const template = Object.keys(document.paths).find((candidate) =>
    new RegExp(`^${candidate.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(relative),
  );
  expect(template, `a documented path for ${relative}`).to.be.a('string');
  const operations = document.paths[template!]!;
  // A wrong method's 405 is documented on the methods the path has.
  const documented = status === 405 ? Object.keys(operations)[0]! : method.toLowerCase();
  const operation = operations[documented];
  expect(operation, `${method} ${template} documented`).to.not.equal(undefined);
  if (requestBody !== undefined && status < 400) {
    check(
      requestBody,
      'paths',
      template!,
      documented,
      'requestBody',
      'content',
      'application/json',
      'schema',
    );
  }
  const response = operation!.responses[String(status)];
  expect(response, `${method} ${template} documents its ${status}`).to.not.equal(undefined);
  if (response!.content) {
    check(
      responseBody,
      'paths',
      template!,
      documented,
      'responses',
      String(status),
      'content',
      'application/json',
      'schema',
    );
  } else {
    expect(responseBody, `${status} has no body`).to.equal(undefined);
  }
}

describe('docs/openapi.json', () => {
  let repository: InMemoryExternalTaskRepository;
  let api: ExternalTaskApi;
  let running: RunningServer;
  let exchanges: Exchange[];
  let client: HttpExternalTaskClient;

  beforeEach(async () => {
    repository = new InMemoryExternalTaskRepository({ logger: silentLogger() });
    api = new ExternalTaskApi({ repository, logger: silentLogger() });
    running = await listen(
      createHttpHandler(api, { logger: silentLogger(), maxBodyBytes: 10_000, allowAnyToken: true }),
    );
    exchanges = [];
    client = new HttpExternalTaskClient({ baseUrl: running.origin + base, fetch: recording });
  });

  afterEach(async () => {
    await running.close();
    await api.close();
  });

  /** A fetch that records what went over the wire. */
  const recording: typeof fetch = async (input, init = {}) => {
    const response = await fetch(input, init);
    const text = await response.clone().text();
    exchanges.push({
      method: init.method ?? 'GET',
      path: new URL(input instanceof Request ? input.url : input).pathname,
      requestBody: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
      status: response.status,
      responseBody: text === '' ? undefined : JSON.parse(text),
    });
    return response;
  };

  it('is the document the handler serves', async () => {
    await recording(`${running.origin}${base}/openapi.json`);
    expect(exchanges[0]!.responseBody).to.deep.equal(document);
    expect(openApiDocument).to.deep.equal(document);
    validateExchange(exchanges[0]!);
  });

  it('describes every request the client makes and every answer the handler gives', async () => {
    for (let n = 0; n < 6; n++)
      await repository.create(newTask(n % 2 ? 'invoice' : 'archive', { payload: { n } }));
    const tasks = await client.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 3, 0, 60_000);
    const [archived] = await client.fetchAndLock(identity, {
      workerId: 'w1',
      topics: [{ topicName: 'archive', lockDuration: 1000 }],
      maxTasks: 1,
      longPollingTimeout: 10,
    });
    const [a, b, c] = tasks;
    await client.extendLock(identity, 'w1', a!.id, 5000);
    await client.finishExternalTask(identity, 'w1', a!.id, { sent: true });
    await client.handleBpmnError(identity, 'w1', b!.id, 'REJECTED', 'no');
    await client.handleServiceError(
      identity,
      'w1',
      c!.id,
      'down',
      { retry: true },
      { retries: 1, retryTimeout: 10 },
    );
    await client.handleSystemError(identity, 'w1', archived!.id, 'down');
    const [again] = await client.fetchAndLockExternalTasks(identity, 'w2', 'archive', 1, 0, 60_000);
    await client.unlock(identity, 'w2', again!.id);

    // Refusals: 400 (sent by hand: the client refuses a bad argument without a request), 401, 404, 410, 423.
    const url = `${running.origin}${base}/fetch_and_lock`;
    await recording(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${identity.token}` },
      body: JSON.stringify({ workerId: 'w1', topicName: 'invoice', maxTasks: 0, lockDuration: 1000 }),
    });
    await rejectionOf(client.fetchAndLockExternalTasks(undefined, 'w1', 'invoice', 1, 0, 1000));
    await rejectionOf(
      client.finishExternalTask(identity, 'w1', '00000000-0000-4000-8000-000000000000', null),
    );
    await rejectionOf(client.finishExternalTask(identity, 'w1', a!.id, null));
    const [held] = await client.fetchAndLockExternalTasks(identity, 'w3', 'archive', 1, 0, 60_000);
    await rejectionOf(client.extendLock(identity, 'w1', held!.id, 1000));

    // Requests the HTTP layer refuses: 405, 413, 415.
    await recording(url);
    await recording(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ padding: 'x'.repeat(20_000) }),
    });
    await recording(url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({}),
    });

    const statuses = [...new Set(exchanges.map((exchange) => exchange.status))].sort();
    expect(statuses).to.deep.equal([200, 204, 400, 401, 404, 405, 410, 413, 415, 423]);
    for (const exchange of exchanges) validateExchange(exchange);
  });

  it('would catch an answer it does not describe', () => {
    expect(() =>
      validateExchange({
        method: 'POST',
        path: `${base}/fetch_and_lock`,
        requestBody: undefined,
        status: 200,
        responseBody: [{ id: 'x' }],
      }),
    ).to.throw(/required property/);
  });
});
