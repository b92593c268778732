import { expect } from 'chai';
import type http from 'node:http';
import sinon from 'sinon';
import {
  BadRequestError,
  ExternalTaskApi,
  ExternalTaskWorker,
  InMemoryExternalTaskRepository,
} from '../../lib/index.js';
import { createHttpHandler, HttpExternalTaskClient, HttpClientTransportError } from '../../lib/http/index.js';
import { identity, newTask, rejectionOf } from '../support/fixtures.js';
import { silentLogger } from '../worker/worker-fixtures.js';
import { listen, type RunningServer } from './transports.js';

const path = '/api/external_task/v1';

describe('HttpExternalTaskClient', () => {
  let repository: InMemoryExternalTaskRepository;
  let api: ExternalTaskApi;
  let running: RunningServer | undefined;

  beforeEach(() => {
    repository = new InMemoryExternalTaskRepository({ logger: silentLogger() });
    api = new ExternalTaskApi({ repository, logger: silentLogger() });
  });

  afterEach(async () => {
    await running?.close();
    running = undefined;
    await api.close();
  });

  async function serve(
    listener: http.RequestListener = createHttpHandler(api, { logger: silentLogger(), allowAnyToken: true }),
  ): Promise<string> {
    running = await listen(listener);
    return running.origin + path;
  }

  it('network failures are HttpClientTransportErrors (503, network)', async () => {
    const baseUrl = await serve();
    await running!.close();
    running = undefined;
    const client = new HttpExternalTaskClient({ baseUrl, token: 't' });
    const error = await rejectionOf(client.fetchAndLockExternalTasks(undefined, 'w1', 'invoice', 1, 0, 1000));
    expect(error).to.be.instanceOf(HttpClientTransportError);
    expect(error).to.include({ status: 503, code: 'HTTP_TRANSPORT_FAILED', failure: 'network' });
  });

  it('a server that does not answer within requestTimeout is an HttpClientTransportError (timeout)', async () => {
    const baseUrl = await serve(() => undefined);
    const client = new HttpExternalTaskClient({ baseUrl, token: 't', requestTimeout: 50 });
    const error = await rejectionOf(client.extendLock(undefined, 'w1', 'task-1', 1000));
    expect(error).to.be.instanceOf(HttpClientTransportError);
    expect(error).to.include({ failure: 'timeout' });
  });

  it('a long poll may take its longPollingTimeout beyond requestTimeout, and no longer', async () => {
    const clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      // A server that answers when told to, and a request that ends when the client aborts it.
      const answers: ((response: Response) => void)[] = [];
      const fetch = (_url: string | URL | Request, init?: RequestInit): Promise<Response> =>
        new Promise((resolve, reject) => {
          answers.push(resolve);
          init?.signal?.addEventListener('abort', () => reject(init.signal?.reason as Error));
        });
      const client = new HttpExternalTaskClient({
        baseUrl: 'http://engine.test/api',
        token: 't',
        requestTimeout: 20,
        fetch,
      });
      const emptyList = (): Response =>
        new Response('[]', { status: 200, headers: { 'content-type': 'application/json' } });

      const answered = client.fetchAndLockExternalTasks(undefined, 'w1', 'invoice', 1, 200, 1000);
      await clock.tickAsync(219); // past requestTimeout, within requestTimeout + longPollingTimeout
      answers[0]!(emptyList());
      expect(await answered).to.deep.equal([]);

      const unanswered = rejectionOf(
        client.fetchAndLockExternalTasks(undefined, 'w1', 'invoice', 1, 200, 1000),
      );
      await clock.tickAsync(220);
      const error = await unanswered;
      expect(error).to.be.instanceOf(HttpClientTransportError);
      expect(error).to.include({ failure: 'timeout' });
    } finally {
      clock.restore();
    }
  });

  it('an answer that is not the API’s (a proxy’s 502 page) is an HttpClientTransportError (response)', async () => {
    const baseUrl = await serve((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad gateway</h1>');
    });
    const client = new HttpExternalTaskClient({ baseUrl, token: 't' });
    const error = await rejectionOf(client.unlock(undefined, 'w1', 'task-1'));
    expect(error).to.be.instanceOf(HttpClientTransportError);
    expect(error).to.include({ failure: 'response' });
  });

  it('a success that is not the API’s (a catch-all page answering 200) is an HttpClientTransportError, not a write done', async () => {
    const baseUrl = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Shop</title>');
    });
    const client = new HttpExternalTaskClient({ baseUrl, token: 't' });
    for (const call of [
      client.finishExternalTask(undefined, 'w1', 'task-1', { sent: true }),
      client.fetchAndLockExternalTasks(undefined, 'w1', 'invoice', 1, 0, 1000),
    ]) {
      const error = await rejectionOf(call);
      expect(error).to.be.instanceOf(HttpClientTransportError);
      expect(error).to.include({ failure: 'response' });
    }
  });

  it('sends the call’s token, else the configured one, over kept-alive connections', async () => {
    const identify = sinon.spy((token: string | undefined) => (token ? { token } : undefined));
    const baseUrl = await serve(createHttpHandler(api, { identify, logger: silentLogger() }));
    const client = new HttpExternalTaskClient({ baseUrl, identity: { token: 'configured' } });
    await client.fetchAndLockExternalTasks(undefined, 'w1', 'invoice', 1, 0, 1000);
    await client.fetchAndLockExternalTasks({ token: 'per-call' }, 'w1', 'invoice', 1, 0, 1000);
    await client.fetchAndLockExternalTasks({}, 'w1', 'invoice', 1, 0, 1000);
    expect(identify.getCalls().map((call) => call.args[0])).to.deep.equal([
      'configured',
      'per-call',
      'configured',
    ]);
    for (let call = 0; call < 7; call++)
      await client.extendLock(undefined, 'w1', 'no-such-task', 1000).catch(() => undefined);
    // Ten calls, a connection or two kept alive (undici may open a second while the first is released).
    expect(running!.connections.length).to.be.at.most(2);
  });

  it('an ExternalTaskWorker backs off from transport failures and carries on', async () => {
    const baseUrl = await serve();
    let failures = 2;
    const flakyFetch: typeof fetch = (input, init) =>
      failures-- > 0 ? Promise.reject(new TypeError('fetch failed')) : fetch(input, init);
    const client = new HttpExternalTaskClient({ baseUrl, token: 't', fetch: flakyFetch });
    const worker = new ExternalTaskWorker(client, {
      topic: 'invoice',
      identity,
      handler: () => 'done',
      backoff: { initialDelay: 5, maxDelay: 10 },
      logger: silentLogger(),
    });
    const pollErrors: unknown[] = [];
    worker.events.on('worker:fetchFailed', ({ error }) => pollErrors.push(error));
    const { id } = await repository.create(newTask('invoice'));
    await worker.start();
    try {
      expect(await api.waitForOutcome(id)).to.include({ state: 'finished', result: 'done' });
    } finally {
      await worker.stop();
    }
    expect(pollErrors).to.have.length(2);
    expect(pollErrors.every((error) => error instanceof HttpClientTransportError)).to.equal(true);
    expect(worker.state).to.equal('stopped');
  });

  it('refuses arguments JSON cannot carry with a BadRequestError naming them, without a request', async () => {
    // A BigInt made JSON.stringify throw inside the transport: a 503 a worker would retry for ever.
    const fetch = sinon.spy(() => Promise.resolve(new Response(null, { status: 204 })));
    const client = new HttpExternalTaskClient({ baseUrl: 'http://engine:8080/api/external_task/v1', fetch });
    const big = 10n as unknown as number;
    const topics = [{ topicName: 'invoice', lockDuration: big }];
    const calls: [string, () => Promise<unknown>][] = [
      ['maxTasks', () => client.fetchAndLockExternalTasks(identity, 'w1', 'invoice', big, 0, 1000)],
      [
        'topics[0].lockDuration',
        () => client.fetchAndLock(identity, { workerId: 'w1', topics, maxTasks: 1 }),
      ],
      ['additionalDuration', () => client.extendLock(identity, 'w1', 'task-1', big)],
      ['workerId', () => client.finishExternalTask(identity, big as never, 'task-1', { ok: true })],
      ['errorCode', () => client.handleBpmnError(identity, 'w1', 'task-1', big as never)],
      ['errorMessage', () => client.handleBpmnError(identity, 'w1', 'task-1', 'E', big as never)],
      ['errorMessage', () => client.handleServiceError(identity, 'w1', 'task-1', big as never)],
      [
        'options.retries',
        () => client.handleSystemError(identity, 'w1', 'task-1', 'boom', undefined, { retries: big }),
      ],
      ['workerId', () => client.unlock(identity, big as never, 'task-1')],
    ];
    for (const [argument, call] of calls) {
      const error = await rejectionOf(call());
      expect(error, argument).to.be.instanceOf(BadRequestError);
      expect(error, argument).to.include({ status: 400, argument });
    }
    expect(fetch.called).to.equal(false);
  });

  it('refuses bad options at once, naming them', () => {
    expect(() => new HttpExternalTaskClient({ baseUrl: 'engine:8080/api' })).to.throw(TypeError, /baseUrl/);
    expect(() => new HttpExternalTaskClient({ baseUrl: 'ftp://engine/api' })).to.throw(TypeError, /baseUrl/);
    expect(() => new HttpExternalTaskClient({ baseUrl: 'http://engine', token: '' })).to.throw(
      TypeError,
      /token/,
    );
    expect(() => new HttpExternalTaskClient({ baseUrl: 'http://engine', requestTimeout: 0 })).to.throw(
      RangeError,
      /requestTimeout/,
    );
  });

  it('refuses a baseUrl that fetch cannot send or that would mangle the paths, without repeating credentials', () => {
    // fetch refuses a URL with credentials on every call: a worker would back off from it forever and log
    // the password with each failure. A query or a fragment would end up in front of every route.
    for (const baseUrl of [
      'http://worker:s3cret@engine:8080/api/external_task/v1',
      'http://engine:8080/api/external_task/v1?tenant=a',
      'http://engine:8080/api/external_task/v1#v1',
    ]) {
      let error: unknown;
      try {
        new HttpExternalTaskClient({ baseUrl });
      } catch (thrown) {
        error = thrown;
      }
      expect(error, baseUrl).to.be.instanceOf(TypeError);
      expect((error as TypeError).message)
        .to.match(/baseUrl/)
        .and.not.match(/s3cret/);
    }
  });
});
