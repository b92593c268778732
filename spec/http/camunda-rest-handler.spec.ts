import { expect } from 'chai';
import sinon from 'sinon';
import { ExternalTaskApi, ForbiddenError, UnauthorizedError, type Identity } from '../../lib/index.js';
import { createCamundaRestHandler, type CamundaRestHandlerOptions } from '../../lib/http/index.js';
import { identity, newTask } from '../support/fixtures.js';
import { createStack, silentLogger } from '../worker/worker-fixtures.js';
import { listen, rawRequest, type RunningServer } from './transports.js';

const base = '/engine-rest';
const headers = { 'content-type': 'application/json', authorization: `Bearer ${identity.token}` };

/** What the handler answered: the status, the exact content type and the parsed body. */
type Answer = { status: number; contentType: string | null; body: unknown };

describe('createCamundaRestHandler', () => {
  /** The engine's side: a fresh in-memory api for each test. */
  let stack: ReturnType<typeof createStack>;
  let running: RunningServer | undefined;
  let logger: ReturnType<typeof silentLogger>;

  beforeEach(() => {
    stack = createStack();
    logger = silentLogger();
  });

  afterEach(async () => {
    await running?.close();
    running = undefined;
    await stack.api.close();
  });

  async function serve(options: CamundaRestHandlerOptions = {}): Promise<void> {
    running = await listen(createCamundaRestHandler(stack.api, { logger, allowAnyToken: true, ...options }));
  }

  async function post(path: string, body?: unknown, init: RequestInit = {}): Promise<Answer> {
    if (!running) await serve();
    const response = await fetch(running!.origin + base + path, {
      method: 'POST',
      headers,
      ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      ...init,
    });
    const text = await response.text();
    return {
      status: response.status,
      contentType: response.headers.get('content-type'),
      body: text === '' ? undefined : JSON.parse(text),
    };
  }

  async function heldTask(payload: unknown = { n: 1 }): Promise<string> {
    await stack.repository.create(newTask('invoice', { payload }));
    const [task] = await stack.api.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 1, 0, 60_000);
    return task!.id;
  }

  const fetchBody = (topic: Record<string, unknown> = {}): Record<string, unknown> => ({
    workerId: 'w1',
    maxTasks: 5,
    usePriority: false,
    topics: [{ topicName: 'invoice', lockDuration: 60_000, ...topic }],
  });

  describe('fetchAndLock', () => {
    it('answers Camunda’s locked tasks, exactly application/json, by priority whatever usePriority', async () => {
      const low = await stack.repository.create(newTask('invoice', { payload: { n: 1 }, priority: 1 }));
      const high = await stack.repository.create(
        newTask('invoice', { payload: { n: 2 }, priority: 9, tenantId: 'acme', processModelId: 'billing' }),
      );
      const answer = await post('/external-task/fetchAndLock', fetchBody());
      expect(answer.status).to.equal(200);
      expect(answer.contentType).to.equal('application/json');
      const tasks = answer.body as Record<string, unknown>[];
      expect(tasks.map((task) => task.id)).to.deep.equal([high.id, low.id]);
      expect(tasks[0]).to.deep.include({
        topicName: 'invoice',
        workerId: 'w1',
        tenantId: 'acme',
        processDefinitionKey: 'billing',
        businessKey: high.correlationId,
        executionId: high.flowNodeInstanceId,
        activityId: null,
        retries: null,
        errorMessage: null,
        extensionProperties: {},
        variables: { n: { type: 'Integer', value: 2, valueInfo: {} } },
      });
    });

    it('answers the variables a topic names; a payload that is no object is the variable payload', async () => {
      await stack.repository.create(newTask('invoice', { payload: { a: 'x', b: 2.5, c: [1] } }));
      const named = await post('/external-task/fetchAndLock', fetchBody({ variables: ['b', 'c'] }));
      expect((named.body as { variables: unknown }[])[0]!.variables).to.deep.equal({
        b: { type: 'Double', value: 2.5, valueInfo: {} },
        c: { type: 'Json', value: '[1]', valueInfo: {} },
      });
      await stack.repository.create(newTask('invoice', { payload: ['not', 'an', 'object'] }));
      const other = await post('/external-task/fetchAndLock', fetchBody());
      expect((other.body as { variables: unknown }[])[0]!.variables).to.deep.equal({
        payload: { type: 'Json', value: '["not","an","object"]', valueInfo: {} },
      });
    });

    it('holds the poll up to asyncResponseTimeout, and answers a task created meanwhile', async () => {
      const poll = post('/external-task/fetchAndLock', { ...fetchBody(), asyncResponseTimeout: 10_000 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const created = await stack.repository.create(newTask('invoice'));
      const answer = await poll;
      expect((answer.body as { id: string }[]).map((task) => task.id)).to.deep.equal([created.id]);
    });

    it('ends the poll of a client that went away, so a later task goes to another worker', async () => {
      await serve();
      const fetchAndLock = sinon.spy(stack.api, 'fetchAndLock');
      const controller = new AbortController();
      const body = { ...fetchBody(), workerId: 'gone', asyncResponseTimeout: 60_000 };
      const poll = post('/external-task/fetchAndLock', body, { signal: controller.signal }).catch(
        (error: unknown) => error,
      );
      while (!fetchAndLock.called) await new Promise((resolve) => setTimeout(resolve, 5));
      controller.abort();
      await poll;
      const signal = fetchAndLock.firstCall.args[1].signal!;
      while (!signal.aborted) await new Promise((resolve) => setTimeout(resolve, 5));
      const created = await stack.repository.create(newTask('invoice'));
      const [task] = await stack.api.fetchAndLockExternalTasks(identity, 'other', 'invoice', 1, 0, 60_000);
      expect(task?.id).to.equal(created.id);
    });

    it('refuses filters it cannot honour, and bad fields by their Camunda names', async () => {
      const created = await stack.repository.create(newTask('invoice'));
      const filtered = await post('/external-task/fetchAndLock', fetchBody({ tenantIdIn: ['acme'] }));
      expect(filtered.status).to.equal(400);
      expect(filtered.body).to.deep.equal({
        type: 'InvalidRequestException',
        message: 'topics[0].tenantIdIn is not supported: tasks cannot be selected by it here.',
      });
      const timeout = await post('/external-task/fetchAndLock', { ...fetchBody(), asyncResponseTimeout: -1 });
      expect(timeout.status).to.equal(400);
      expect((timeout.body as { message: string }).message).to.match(/^asyncResponseTimeout /);
      const names = await post('/external-task/fetchAndLock', fetchBody({ variables: 'a' }));
      expect((names.body as { message: string }).message).to.match(/^topics\[0\]\.variables /);
      expect((await stack.repository.getById(created.id))!.workerId).to.equal(undefined);
    });
  });

  describe('writes on a task', () => {
    it('complete: variables, and local variables over them, become the result, decoded', async () => {
      const id = await heldTask();
      const answer = await post(`/external-task/${id}/complete`, {
        workerId: 'w1',
        variables: {
          approved: { value: true, type: 'Boolean' },
          order: { value: '{"lines":[1,2]}', type: 'Json' },
          total: { value: 10, type: 'long' },
          untyped: { value: { any: 'json' } },
        },
        localVariables: { total: { value: 12, type: 'Integer' }, nothing: { value: 'x', type: 'Null' } },
      });
      expect(answer.status).to.equal(204);
      expect((await stack.repository.getById(id))!.result).to.deep.equal({
        approved: true,
        order: { lines: [1, 2] },
        total: 12,
        untyped: { any: 'json' },
        nothing: null,
      });
    });

    it('complete refuses a type it does not support, naming the variable, and changes nothing', async () => {
      const id = await heldTask();
      for (const [variable, argument] of [
        [{ type: 'File', value: 'aGVsbG8=' }, 'variables.doc.type'],
        [{ type: 'Object', value: '{}' }, 'variables.doc.type'],
        [{ type: 'Integer', value: '12' }, 'variables.doc.value'],
        [{ type: 'Json', value: '{oops' }, 'variables.doc.value'],
      ] as const) {
        const answer = await post(`/external-task/${id}/complete`, {
          workerId: 'w1',
          variables: { doc: variable },
        });
        expect(answer.status).to.equal(400);
        expect(answer.body).to.deep.include({ type: 'InvalidRequestException' });
        expect((answer.body as { message: string }).message).to.include(argument);
      }
      expect((await stack.repository.getById(id))!.state).to.equal('pending');
    });

    it('failure without retries fails as an incident, as Camunda takes them as 0', async () => {
      const id = await heldTask();
      const answer = await post(`/external-task/${id}/failure`, { workerId: 'w1' });
      expect(answer.status).to.equal(204);
      expect(await stack.repository.getById(id)).to.deep.include({
        state: 'failed',
        incident: true,
        error: { type: 'service', errorMessage: 'The worker reported a failure without a message.' },
      });
    });

    it('extendLock refuses a bad newDuration by that name', async () => {
      const id = await heldTask();
      const answer = await post(`/external-task/${id}/extendLock`, { workerId: 'w1', newDuration: 'long' });
      expect(answer.status).to.equal(400);
      expect((answer.body as { message: string }).message).to.match(/^newDuration /);
    });

    it('unlock needs no body nor worker; a task nobody holds stays as it is', async () => {
      const id = await heldTask();
      expect(
        await post(`/external-task/${id}/unlock`, undefined, {
          headers: { authorization: headers.authorization },
        }),
      ).to.include({ status: 204 });
      expect((await stack.repository.getById(id))!.lockExpirationTime).to.equal(undefined);
      expect((await post(`/external-task/${id}/unlock`)).status).to.equal(204);
    });

    it('unlock refuses a caller without a token before it reads anything of the store', async () => {
      const id = await heldTask();
      const read = sinon.spy(stack.repository, 'getById');
      const unlock = sinon.spy(stack.repository, 'unlock');
      const answer = await post(`/external-task/${id}/unlock`, undefined, { headers: {} });
      expect(answer.status).to.equal(401);
      expect(read.called || unlock.called).to.equal(false);
      expect((await stack.repository.getById(id))!.workerId).to.equal('w1');
    });

    it('unlock looks the holder up within the caller’s scope: another tenant’s task is a 404, its worker unseen', async () => {
      const seen: string[] = [];
      const api = new ExternalTaskApi({
        repository: stack.repository,
        logger,
        accessPolicy: {
          authorize: (who, request) => {
            seen.push(request.workerId);
            const tenant = (who as { tenant?: string } | undefined)?.tenant;
            if (tenant === undefined) throw new UnauthorizedError('no tenant');
            if (request.workerId !== 'camunda-rest:no-holder' && !request.workerId.startsWith(`${tenant}-`)) {
              throw new ForbiddenError(`${tenant} may not act as ${request.workerId}`);
            }
          },
          scope: (who) => ({ tenantIds: [(who as { tenant: string }).tenant] }),
        },
      });
      const identify = (token: string | undefined): Identity | undefined =>
        token === undefined ? undefined : { token, tenant: token };
      running = await listen(createCamundaRestHandler(api, { logger, identify }));
      const theirs = await stack.repository.create(newTask('invoice', { tenantId: 'b' }));
      const [held] = await api.fetchAndLock(
        { token: 'b', tenant: 'b' },
        {
          workerId: 'b-w1',
          topics: [{ topicName: 'invoice', lockDuration: 60_000 }],
          maxTasks: 1,
        },
      );
      expect(held!.id).to.equal(theirs.id);
      seen.length = 0;
      const asA = { headers: { authorization: 'Bearer a' } };
      const other = await post(`/external-task/${theirs.id}/unlock`, undefined, asA);
      const unknown = await post('/external-task/no-such-task/unlock', undefined, asA);
      expect([other.status, unknown.status]).to.deep.equal([404, 404]);
      // The same answer as for an id that does not exist, but for the id the message names.
      expect(JSON.stringify(other.body).replaceAll(theirs.id, '?')).to.equal(
        JSON.stringify(unknown.body).replaceAll('no-such-task', '?'),
      );
      expect(seen).to.not.include('b-w1');
      expect((await stack.repository.getById(theirs.id))!.workerId).to.equal('b-w1');

      const own = await post(`/external-task/${theirs.id}/unlock`, undefined, {
        headers: { authorization: 'Bearer b' },
      });
      expect(own.status).to.equal(204);
      expect((await stack.repository.getById(theirs.id))!.workerId).to.equal(undefined);
      await api.close();
    });

    it('unlock answers while a body still trickles in, and closes the connection rather than wait for it', async () => {
      const id = await heldTask();
      await serve();
      const answer = await rawRequest(
        `${running!.origin}${base}/external-task/${id}/unlock`,
        (request) => request.write('{"workerId":'),
        { authorization: headers.authorization },
      );
      expect(answer.status).to.equal(204);
      expect(answer.headers.connection).to.equal('close');
      expect((await stack.repository.getById(id))!.lockExpirationTime).to.equal(undefined);
    });
  });

  describe('errors in Camunda’s shape', () => {
    it('404 RestException for an unknown task, a finished one too', async () => {
      const unknown = await post('/external-task/no-such-task/complete', { workerId: 'w1' });
      expect(unknown.status).to.equal(404);
      expect(unknown.body).to.deep.equal({
        type: 'RestException',
        message: 'External task no-such-task does not exist.',
      });
      const id = await heldTask();
      await post(`/external-task/${id}/complete`, { workerId: 'w1' });
      const again = await post(`/external-task/${id}/complete`, { workerId: 'w1' });
      expect(again).to.deep.include({ status: 404, contentType: 'application/json' });
      expect((await post('/external-task/no-such-task/unlock')).status).to.equal(404);
    });

    it('400 RestException for a task another worker holds', async () => {
      const id = await heldTask();
      const answer = await post(`/external-task/${id}/bpmnError`, { workerId: 'w2', errorCode: 'E' });
      expect(answer.status).to.equal(400);
      expect(answer.body).to.deep.include({ type: 'RestException' });
      expect((answer.body as { message: string }).message).to.include('worker w1');
    });

    it('400 for malformed JSON, 415 for another content type, 401 without a token', async () => {
      const malformed = await post('/external-task/fetchAndLock', '{"workerId": ');
      expect(malformed.status).to.equal(400);
      expect(malformed.body).to.deep.include({ type: 'InvalidRequestException' });
      const text = await post('/external-task/fetchAndLock', 'x', {
        headers: { ...headers, 'content-type': 'text/plain' },
      });
      expect(text.status).to.equal(415);
      expect(text.body).to.deep.include({ type: 'NotSupportedException' });
      const anonymous = await post('/external-task/fetchAndLock', fetchBody(), {
        headers: { 'content-type': 'application/json' },
      });
      expect(anonymous.status).to.equal(401);
    });

    it('404 NotFoundException for an unknown route, 405 NotAllowedException for another method', async () => {
      expect(await post('/external-task/x/lock', {})).to.deep.include({
        status: 404,
        body: { type: 'NotFoundException', message: `No route ${base}/external-task/x/lock here.` },
      });
      const get = await post('/external-task/fetchAndLock', undefined, { method: 'GET' });
      expect(get.status).to.equal(405);
      expect(get.body).to.deep.include({ type: 'NotAllowedException' });
    });

    it('500 ProcessEngineException without details, logged', async () => {
      sinon.stub(stack.api, 'fetchAndLock').rejects(new Error('connection to db-7 lost'));
      const answer = await post('/external-task/fetchAndLock', fetchBody());
      expect(answer.status).to.equal(500);
      expect(answer.body).to.deep.include({ type: 'ProcessEngineException' });
      expect(JSON.stringify(answer.body)).not.to.include('db-7');
      expect(logger.error.calledOnce).to.equal(true);
    });
  });

  describe('options', () => {
    it('is refused when nothing checks the bearer tokens, unless allowAnyToken: true (which warns once)', () => {
      const quiet = silentLogger();
      expect(() => createCamundaRestHandler(stack.api, { logger: quiet })).to.throw(
        TypeError,
        /allowAnyToken: true/,
      );
      expect(quiet.warn.called).to.equal(false);
      createCamundaRestHandler(stack.api, { logger: quiet, allowAnyToken: true });
      expect(quiet.warn.callCount).to.equal(1);
      createCamundaRestHandler(stack.api, { logger: quiet, identify: () => undefined });
      expect(quiet.warn.callCount, 'identify checks the tokens: no warning').to.equal(1);
    });

    it('serves under another base path, and refuses bad options naming the function', async () => {
      await serve({ basePath: '/camunda/engine-rest' });
      const response = await fetch(`${running!.origin}/camunda/engine-rest/external-task/fetchAndLock`, {
        method: 'POST',
        headers,
        body: JSON.stringify(fetchBody()),
      });
      expect(response.status).to.equal(200);
      expect(() =>
        createCamundaRestHandler(stack.api, { basePath: 'engine-rest/', allowAnyToken: true }),
      ).to.throw(TypeError, /^createCamundaRestHandler: basePath must be a path like \/engine-rest/);
    });
  });
});
