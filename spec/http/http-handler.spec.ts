import { expect } from 'chai';
import express from 'express';
import sinon from 'sinon';
import {
  ExternalTaskApi,
  ForbiddenError,
  InMemoryExternalTaskRepository,
  UnauthorizedError,
  type ExternalTaskService,
  type Identity,
} from '../../lib/index.js';
import { createHttpHandler, type HttpHandlerOptions } from '../../lib/http/index.js';
import { identity, newTask, taskRecord } from '../support/fixtures.js';
import { silentLogger } from '../worker/worker-fixtures.js';
import { listen, rawRequest, type RunningServer } from './transports.js';

const base = '/api/external_task/v1';
const token = 'secret-token-4711';

interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

describe('createHttpHandler', () => {
  let repository: InMemoryExternalTaskRepository;
  let api: ExternalTaskApi;
  let running: RunningServer | undefined;
  let logger: ReturnType<typeof silentLogger>;

  beforeEach(() => {
    logger = silentLogger();
    repository = new InMemoryExternalTaskRepository({ logger });
    api = new ExternalTaskApi({ repository, logger });
  });

  afterEach(async () => {
    await running?.close();
    running = undefined;
    await api.close();
  });

  async function serve(
    service: ExternalTaskService = api,
    options: HttpHandlerOptions = {},
  ): Promise<string> {
    running = await listen(createHttpHandler(service, { logger, allowAnyToken: true, ...options }));
    return running.origin;
  }

  /** Fetches at most one `invoice` task for `w1`, without waiting. */
  function fetchOne(): Promise<Answer> {
    return post('/fetch_and_lock', {
      workerId: 'w1',
      topicName: 'invoice',
      maxTasks: 1,
      longPollingTimeout: 0,
      lockDuration: 1000,
    });
  }

  async function post(path: string, body: unknown, init: RequestInit = {}): Promise<Answer> {
    const origin = running?.origin ?? (await serve());
    const response = await fetch(origin + base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: typeof body === 'string' ? body : JSON.stringify(body),
      ...init,
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text === '' ? undefined : JSON.parse(text),
    };
  }

  /** Starts a long poll of worker `gone`, and disconnects once `arrived` resolves. */
  async function pollThenGo(arrived: () => Promise<void>): Promise<void> {
    const controller = new AbortController();
    const body = {
      workerId: 'gone',
      topicName: 'invoice',
      maxTasks: 1,
      longPollingTimeout: 60_000,
      lockDuration: 1000,
    };
    const poll = post('/fetch_and_lock', body, { signal: controller.signal }).catch(
      (error: unknown) => error,
    );
    await arrived();
    controller.abort();
    await poll;
  }

  async function heldTask(workerId = 'w1'): Promise<string> {
    await repository.create(newTask('invoice'));
    const [task] = await api.fetchAndLockExternalTasks(identity, workerId, 'invoice', 1, 0, 60_000);
    return task!.id;
  }

  describe('bad requests get a clear answer, never a 500', () => {
    it('415 for a body that is not JSON', async () => {
      const answer = await post('/fetch_and_lock', 'workerId=w1', {
        headers: { 'content-type': 'text/plain' },
      });
      expect(answer).to.deep.include({ status: 415 });
      expect(answer.body).to.include({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    });

    it('415 for JSON in another charset than UTF-8', async () => {
      const answer = await post('/fetch_and_lock', '{}', {
        headers: { 'content-type': 'application/json; charset=latin1', authorization: `Bearer ${token}` },
      });
      expect(answer.status).to.equal(415);
    });

    it('400 naming body for malformed JSON, and for JSON that is not an object', async () => {
      for (const body of ['{"workerId": ', '[1, 2]', 'null']) {
        const answer = await post('/fetch_and_lock', body);
        expect(answer.status, body).to.equal(400);
        expect(answer.body, body).to.include({ code: 'BAD_REQUEST', argument: 'body' });
      }
    });

    it('413 for a body beyond maxBodyBytes, declared or streamed, and the connection is closed', async () => {
      await serve(api, { maxBodyBytes: 100 });
      const declared = await post('/fetch_and_lock', { workerId: 'w1', padding: 'x'.repeat(200) });
      expect(declared.status).to.equal(413);
      expect(declared.body).to.include({ code: 'PAYLOAD_TOO_LARGE' });
      expect(declared.headers.get('connection')).to.equal('close');

      const streamed = await rawRequest(running!.origin + base + '/fetch_and_lock', (request) => {
        request.write('{"workerId": "w1", "padding": "');
        request.write('x'.repeat(200));
      });
      expect(streamed.status).to.equal(413);
    });

    it('408 when the body stalls beyond bodyTimeout, and the connection is closed', async () => {
      await serve(api, { bodyTimeout: 50 });
      const answer = await rawRequest(running!.origin + base + '/fetch_and_lock', (request) =>
        request.write('{"workerId":'),
      );
      expect(answer.status).to.equal(408);
      expect(answer.body).to.include({ code: 'REQUEST_TIMEOUT' });
      expect(answer.headers.connection).to.equal('close');
    });

    it('identifies the caller before reading the body: a refused token is a 401 while the body still comes', async () => {
      // Were the body read first, the answer would be a 408 after a minute (the test's timeout is shorter).
      await serve(api, {
        bodyTimeout: 60_000,
        identify: () => {
          throw new UnauthorizedError('this token is refused');
        },
      });
      const answer = await rawRequest(running!.origin + base + '/fetch_and_lock', (request) =>
        request.write('{"workerId":'),
      );
      expect(answer.status).to.equal(401);
      expect(answer.headers.connection).to.equal('close');
    });

    it('tells the client never to sniff a content type, on every answer', async () => {
      const origin = await serve();
      const document = await fetch(origin + base + '/openapi.json');
      const refused = await post('/task/x/explode', { workerId: 'w1' });
      expect([document.status, refused.status]).to.deep.equal([200, 404]);
      const task = await repository.create(newTask('invoice'));
      const [locked] = await api.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 1, 0, 60_000);
      const unlocked = await post(`/task/${locked!.id}/unlock`, { workerId: 'w1' });
      expect(locked!.id).to.equal(task.id);
      expect(unlocked.status).to.equal(204);
      for (const headers of [document.headers, refused.headers, unlocked.headers]) {
        expect(headers.get('x-content-type-options')).to.equal('nosniff');
      }
    });

    it('404 for an unknown route, 405 with Allow for a wrong method', async () => {
      const unknown = await post('/task/x/explode', { workerId: 'w1' });
      expect(unknown.status).to.equal(404);
      expect(unknown.body).to.include({ code: 'ROUTE_NOT_FOUND' });
      const outside = await post('/../../elsewhere', {});
      expect(outside.status).to.equal(404);

      const wrongMethod = await fetch(`${running!.origin}${base}/fetch_and_lock`);
      expect(wrongMethod.status).to.equal(405);
      expect(wrongMethod.headers.get('allow')).to.equal('POST');
      expect(await wrongMethod.json()).to.include({ code: 'METHOD_NOT_ALLOWED' });
    });

    it('400 naming a known field of the wrong type, and a missing long-polling timeout', async () => {
      const wrongType = await post('/fetch_and_lock', {
        workerId: 'w1',
        topicName: 'invoice',
        maxTasks: '5',
        longPollingTimeout: 0,
        lockDuration: 1000,
      });
      expect(wrongType.status).to.equal(400);
      expect(wrongType.body).to.include({ code: 'BAD_REQUEST', argument: 'maxTasks' });
      const missing = await post('/fetch_and_lock', {
        workerId: 'w1',
        topicName: 'invoice',
        maxTasks: 1,
        lockDuration: 1,
      });
      expect(missing.body).to.include({ argument: 'longPollingTimeout' });
      const id = await heldTask();
      const bpmn = await post(`/task/${id}/handle_bpmn_error`, { workerId: 'w1', errorCode: 42 });
      expect(bpmn.body).to.include({ argument: 'errorCode' });
      expect((await repository.getById(id))?.state).to.equal('pending');
    });

    it('ignores fields it does not know (clients of other versions send them)', async () => {
      const id = await heldTask();
      const answer = await post(`/task/${id}/handle_service_error`, {
        workerId: 'w1',
        errorMessage: 'down',
        errorCode: 'E_SMTP',
        sentBy: 'a newer client',
      });
      expect(answer.status).to.equal(204);
      expect((await repository.getById(id))?.error).to.deep.equal({ type: 'service', errorMessage: 'down' });
    });
  });

  describe('failures nobody could prevent', () => {
    it('500 without internals in the body; the failure is logged, the token never', async () => {
      const failing = stubService({
        finishExternalTask: sinon.stub().rejects(new Error('db at 10.0.0.5 refused')),
      });
      await serve(failing);
      const answer = await post('/task/t1/finish', { workerId: 'w1', result: 1 });
      expect(answer.status).to.equal(500);
      expect(answer.body).to.deep.equal({
        code: 'INTERNAL_ERROR',
        message: 'The server failed to handle the request; the failure was logged.',
      });
      expect(JSON.stringify(answer.body)).to.not.contain('10.0.0.5');
      expect(logger.error.calledOnce).to.equal(true);
      const logged = logger.error.firstCall.args as [string, { error: Error }];
      expect(logged[1].error.message).to.contain('10.0.0.5');
      expect(JSON.stringify(logged) + logged[0]).to.not.contain(token);
    });

    it('a failing identify is a 500; a refusing one answers its status', async () => {
      await serve(api, {
        identify: (given) => {
          if (given === 'boom') throw new Error('identity store down');
          throw new ForbiddenError('tokens are not accepted today');
        },
      });
      const body = {
        workerId: 'w1',
        topicName: 'invoice',
        maxTasks: 1,
        longPollingTimeout: 0,
        lockDuration: 1,
      };
      expect((await post('/fetch_and_lock', body)).status).to.equal(403);
      const failed = await post('/fetch_and_lock', body, {
        headers: { 'content-type': 'application/json', authorization: 'Bearer boom' },
      });
      expect(failed.status).to.equal(500);
    });
  });

  describe('identity', () => {
    it('hands the identity identify derives from the bearer token to the service', async () => {
      const fetchAndLock = sinon.stub().resolves([]);
      await serve(stubService({ fetchAndLock }), {
        identify: (given): Identity | undefined => (given ? { token: given, tenant: 'acme' } : undefined),
      });
      await post('/fetch_and_lock', {
        workerId: 'w1',
        topicName: 'a',
        maxTasks: 1,
        longPollingTimeout: 0,
        lockDuration: 1,
      });
      expect(fetchAndLock.firstCall.args[0]).to.deep.equal({ token, tenant: 'acme' });
      await post(
        '/fetch_and_lock',
        {},
        { headers: { 'content-type': 'application/json', authorization: 'Basic abc' } },
      );
      expect(fetchAndLock.secondCall.args[0]).to.equal(undefined);
    });
  });

  describe('long polls and clients that go away', () => {
    it('ends the poll when the client disconnects, and a later task goes to another worker', async () => {
      const signals: AbortSignal[] = [];
      const fetchAndLock = api.fetchAndLock.bind(api);
      sinon.stub(api, 'fetchAndLock').callsFake((caller, options) => {
        signals.push(options.signal!);
        return fetchAndLock(caller, options);
      });
      await serve();
      await pollThenGo(() => until(() => signals.length === 1));
      await until(() => signals[0]!.aborted);
      const { id } = await repository.create(newTask('invoice'));
      const [task] = await api.fetchAndLockExternalTasks(identity, 'other', 'invoice', 1, 0, 60_000);
      expect(task?.id).to.equal(id);
    });

    it('unlocks at once the tasks a fetch claimed for a client that went away meanwhile', async () => {
      const claimed = taskRecord({ id: 'claimed-1', workerId: 'gone' });
      let reachedService!: () => void;
      const reached = new Promise<void>((resolve) => (reachedService = resolve));
      const unlock = sinon.stub().resolves();
      const service = stubService({
        unlock,
        // A claim that completes just as the client goes away.
        fetchAndLock: (_caller, { signal }) => {
          reachedService();
          return new Promise((resolve) => signal!.addEventListener('abort', () => resolve([claimed])));
        },
      });
      await serve(service);
      await pollThenGo(() => reached);
      await until(() => unlock.called);
      expect(unlock.firstCall.args).to.deep.equal([{ token }, 'gone', 'claimed-1']);
    });
  });

  describe('mounting', () => {
    it('in Express: its own routes still answer, and a body express.json() parsed is taken', async () => {
      const app = express();
      app.use(express.json());
      app.get('/health', (_req, res) => {
        res.json({ ok: true });
      });
      app.use(createHttpHandler(api, { logger, allowAnyToken: true }));
      running = await listen(app);
      expect(await (await fetch(`${running.origin}/health`)).json()).to.deep.equal({ ok: true });
      await repository.create(newTask('invoice'));
      const answer = await fetchOne();
      expect(answer.status).to.equal(200);
      expect(answer.body).to.have.length(1);
    });

    it('serves its OpenAPI document', async () => {
      await serve();
      const response = await fetch(`${running!.origin}${base}/openapi.json`);
      expect(response.status).to.equal(200);
      expect(await response.json()).to.include({ openapi: '3.1.0' });
    });
  });

  describe('options', () => {
    it('refuses bad options at once, naming them', () => {
      expect(() => createHttpHandler(api, { maxBodyBytes: 0 })).to.throw(RangeError, /maxBodyBytes/);
      expect(() => createHttpHandler(api, { bodyTimeout: 1.5 })).to.throw(RangeError, /bodyTimeout/);
      expect(() => createHttpHandler(api, { basePath: 'api/' })).to.throw(TypeError, /basePath/);
      expect(() => createHttpHandler(api, { identify: 'token' as never })).to.throw(TypeError, /identify/);
    });

    it('refuses to be created when nothing checks the bearer tokens, naming the ways to check them', () => {
      for (const options of [{}, { allowAnyToken: false }]) {
        expect(() => createHttpHandler(api, { logger, ...options }))
          .to.throw(TypeError, /identify/)
          .with.property('message')
          .that.matches(/accessPolicy/)
          .and.matches(/allowAnyToken: true/);
      }
      expect(() => createHttpHandler(api, { allowAnyToken: 'yes' as never })).to.throw(
        TypeError,
        /allowAnyToken/,
      );
      expect(logger.warn.called).to.equal(false);
    });

    it('with allowAnyToken: true serves a made-up token, and warns once when it is created', async () => {
      running = await listen(createHttpHandler(api, { logger, allowAnyToken: true }));
      expect(logger.warn.callCount).to.equal(1);
      expect(logger.warn.firstCall.args[0]).to.match(/allowAnyToken/);
      const answer = await fetchOne();
      expect(answer.status).to.equal(200);
      expect(logger.warn.callCount).to.equal(1);
    });

    it("is created without a warning when identify or the api's accessPolicy checks the tokens", async () => {
      const checked = new ExternalTaskApi({
        repository,
        logger,
        accessPolicy: { authorize: () => undefined }, // a policy of the application's own
      });
      try {
        createHttpHandler(checked, { logger });
        running = await listen(
          createHttpHandler(api, {
            logger,
            identify: (given) => (given === 'known' ? { token: given } : undefined),
          }),
        );
        expect(logger.warn.called).to.equal(false);
        const answer = await fetchOne();
        expect(answer.status, 'a made-up token').to.equal(401);
      } finally {
        await checked.close();
      }
    });

    it('serves under another basePath', async () => {
      await serve(api, { basePath: '/engine/tasks' });
      const response = await fetch(`${running!.origin}/engine/tasks/openapi.json`);
      expect(response.status).to.equal(200);
    });
  });
});

/** A service whose every method rejects unless given. */
function stubService(methods: Partial<ExternalTaskService>): ExternalTaskService {
  const refuse = (): Promise<never> => Promise.reject(new Error('not stubbed'));
  return {
    fetchAndLockExternalTasks: refuse,
    fetchAndLock: refuse,
    extendLock: refuse,
    finishExternalTask: refuse,
    handleBpmnError: refuse,
    handleServiceError: refuse,
    unlock: refuse,
    ...methods,
  };
}

/** Waits until `condition` holds, checking on each turn of the event loop (bounded by the test's timeout). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}
