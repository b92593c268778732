import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ExternalTaskApi,
  InMemoryExternalTaskRepository,
  tokenAccessPolicy,
  type ExternalTask,
} from '../../lib/index.js';
import { ManualClock } from '../../lib/testing/index.js';
import {
  createCamundaRestHandler,
  createHttpHandler,
  type HttpRequestListener,
} from '../../lib/http/index.js';
import { newTask } from '../support/fixtures.js';
import { recordCases } from './case-report.js';

/** One raw request and the status the documentation (docs/deployment.md, "Errors") gives it. */
interface RequestCase {
  readonly name: string;
  readonly method: string;
  /** Relative to the base path; `{held}` is replaced by the held task's id. */
  readonly path: string;
  readonly contentType?: string;
  readonly body?: string | Buffer;
  readonly status: number;
  /** For a native 400: the argument it names. */
  readonly argument?: string;
}

const json = 'application/json';
const maxBodyBytes = 2 * 1024 * 1024;
const nested = (levels: number): string => '['.repeat(levels) + ']'.repeat(levels);
const longId = 'i'.repeat(10_000);

/** The body-level cases of a route that reads a JSON body, for both transports. */
function bodyCases(path: string, validBody: string): RequestCase[] {
  return [
    {
      name: 'malformed JSON',
      method: 'POST',
      path,
      contentType: json,
      body: '{"workerId":,}',
      status: 400,
      argument: 'body',
    },
    {
      name: 'truncated JSON',
      method: 'POST',
      path,
      contentType: json,
      body: validBody.slice(0, validBody.length >> 1),
      status: 400,
      argument: 'body',
    },
    { name: 'empty body', method: 'POST', path, contentType: json, body: '', status: 400, argument: 'body' },
    {
      name: 'JSON array',
      method: 'POST',
      path,
      contentType: json,
      body: '[]',
      status: 400,
      argument: 'body',
    },
    {
      name: 'JSON null',
      method: 'POST',
      path,
      contentType: json,
      body: 'null',
      status: 400,
      argument: 'body',
    },
    {
      name: '100,000 levels deep',
      method: 'POST',
      path,
      contentType: json,
      body: `{"nested":${nested(100_000)}}`,
      status: 400,
    },
    {
      name: 'oversized body',
      method: 'POST',
      path,
      contentType: json,
      body: Buffer.alloc(maxBodyBytes + 1, 0x20),
      status: 413,
    },
    { name: 'text/plain', method: 'POST', path, contentType: 'text/plain', body: validBody, status: 415 },
    { name: 'no content type', method: 'POST', path, body: validBody, status: 415 },
    {
      name: 'JSON in Latin-1',
      method: 'POST',
      path,
      contentType: `${json}; charset=latin1`,
      body: validBody,
      status: 415,
    },
    {
      name: 'form encoded',
      method: 'POST',
      path,
      contentType: 'application/x-www-form-urlencoded',
      body: 'workerId=w1',
      status: 415,
    },
    {
      name: 'invalid UTF-8',
      method: 'POST',
      path,
      contentType: json,
      body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
      status: 400,
    },
  ];
}

/** Path ids: traversal, NUL, an encoded slash, a broken escape, a very long id. */
function idCases(route: (id: string) => string, validBody: string, tooLong: number): RequestCase[] {
  const post = (name: string, id: string, status: number, argument?: string): RequestCase => ({
    name,
    method: 'POST',
    path: route(id),
    contentType: json,
    body: validBody,
    status,
    ...(argument && { argument }),
  });
  return [
    post('id ..', '..', 404),
    post('id ..%2F..%2Fconfig', '..%2F..%2Fconfig', 404),
    post('id %2F', 'a%2Fb', 404),
    post('id %00', '%00', 400, 'externalTaskId'),
    post('id a%00b', 'a%00b', 400, 'externalTaskId'),
    post('id with a broken escape', '%ZZ', 404),
    post('id of 10,000 characters', longId, tooLong, 'externalTaskId'),
  ];
}

const native: RequestCase[] = [
  ...bodyCases(
    '/fetch_and_lock',
    '{"workerId":"w2","topicName":"invoice","maxTasks":1,"longPollingTimeout":0,"lockDuration":1000}',
  ),
  ...bodyCases('/task/{held}/finish', '{"workerId":"w1","result":1}'),
  ...idCases((id) => `/task/${id}/finish`, '{"workerId":"w1"}', 400),
  ...idCases((id) => `/task/${id}/unlock`, '{"workerId":"w1"}', 400),
  { name: 'unknown route', method: 'POST', path: '/nope', contentType: json, body: '{}', status: 404 },
  {
    name: 'unknown action',
    method: 'POST',
    path: '/task/{held}/explode',
    contentType: json,
    body: '{}',
    status: 404,
  },
  {
    name: 'route with a trailing slash',
    method: 'POST',
    path: '/fetch_and_lock/',
    contentType: json,
    body: '{}',
    status: 404,
  },
  { name: 'GET fetch_and_lock', method: 'GET', path: '/fetch_and_lock', status: 405 },
  { name: 'DELETE a task', method: 'DELETE', path: '/task/{held}/finish', status: 405 },
  {
    name: 'PATCH fetch_and_lock',
    method: 'PATCH',
    path: '/fetch_and_lock',
    contentType: json,
    body: '{}',
    status: 405,
  },
  // Node's parser refuses a method it does not know (400) before any handler sees the request.
  { name: 'a made-up method', method: 'BREW', path: '/fetch_and_lock', status: 400 },
];

const camunda: RequestCase[] = [
  ...bodyCases(
    '/external-task/fetchAndLock',
    '{"workerId":"w2","maxTasks":1,"topics":[{"topicName":"invoice","lockDuration":1000}]}',
  ),
  ...bodyCases('/external-task/{held}/complete', '{"workerId":"w1"}'),
  ...idCases((id) => `/external-task/${id}/complete`, '{"workerId":"w1"}', 400),
  ...idCases((id) => `/external-task/${id}/extendLock`, '{"workerId":"w1","newDuration":1000}', 400),
  {
    name: 'unknown route',
    method: 'POST',
    path: '/process-instance',
    contentType: json,
    body: '{}',
    status: 404,
  },
  {
    name: 'unknown action',
    method: 'POST',
    path: '/external-task/{held}/explode',
    contentType: json,
    body: '{}',
    status: 404,
  },
  { name: 'GET fetchAndLock', method: 'GET', path: '/external-task/fetchAndLock', status: 405 },
  { name: 'DELETE a task', method: 'DELETE', path: '/external-task/{held}/complete', status: 405 },
  { name: 'a made-up method', method: 'BREW', path: '/external-task/fetchAndLock', status: 400 },
];

interface Answer {
  readonly status: number;
  readonly body: string;
}

function send(port: number, request: RequestCase, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = request.body ?? '';
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: request.method,
        path,
        headers: {
          authorization: 'Bearer bad-input',
          ...(request.contentType && { 'content-type': request.contentType }),
          'content-length': Buffer.byteLength(body),
        },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    // The server may answer (413) and close before the whole body was written.
    req.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error),
    );
    req.end(body);
  });
}

for (const [transport, basePath, cases, handler] of [
  ['native routes', '/api/external_task/v1', native, createHttpHandler],
  ['Camunda routes', '/engine-rest', camunda, createCamundaRestHandler],
] as const) {
  describe(`bad input over HTTP: ${transport}`, () => {
    let server: http.Server;
    let repository: InMemoryExternalTaskRepository;
    let api: ExternalTaskApi;
    let held: ExternalTask;
    const durations: number[] = [];

    before(async () => {
      const clock = new ManualClock(Date.UTC(2026, 0, 1));
      const logger = { error: () => undefined, warn: () => undefined };
      repository = new InMemoryExternalTaskRepository({ clock, logger });
      api = new ExternalTaskApi({
        repository,
        clock,
        logger,
        accessPolicy: { ...tokenAccessPolicy },
      });
      await repository.create(newTask('invoice'));
      [held] = (await api.fetchAndLockExternalTasks({ token: 't' }, 'w1', 'invoice', 1, 0, 60_000)) as [
        ExternalTask,
      ];
      await repository.create(newTask('invoice'));
      server = http.createServer(
        (handler as (a: ExternalTaskApi, o: object) => HttpRequestListener)(api, { logger }),
      );
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });

    after(async () => {
      recordCases(`HTTP ${transport}`, durations);
      await new Promise((resolve) => server.close(resolve));
      await api.close();
    });

    async function snapshot(): Promise<string> {
      const { tasks } = await repository.query({ limit: 1000 });
      return JSON.stringify({ tasks, position: await repository.currentPosition() });
    }

    for (const request of cases) {
      it(`${request.method} ${request.path.slice(0, 60)} — ${request.name}: ${request.status}, store unchanged`, async () => {
        const before = await snapshot();
        const started = performance.now();
        const path = basePath + request.path.replace('{held}', held.id);
        const answer = await send((server.address() as AddressInfo).port, request, path);
        durations.push(performance.now() - started);
        expect(answer.status, answer.body.slice(0, 300)).to.equal(request.status);
        if (request.argument && transport === 'native routes') {
          expect((JSON.parse(answer.body) as { argument?: string }).argument).to.equal(request.argument);
        }
        expect(answer.body.length, 'an answer stays short').to.be.below(2000);
        expect(await snapshot()).to.equal(before);
      });
    }
  });
}
