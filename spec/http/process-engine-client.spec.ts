import { expect } from 'chai';
import { createRequire } from 'node:module';
import { ExternalTaskApi, InMemoryExternalTaskRepository } from '../../lib/index.js';
import { createHttpHandler } from '../../lib/http/index.js';
import { newTask, rejectionOf } from '../support/fixtures.js';
import { silentLogger } from '../worker/worker-fixtures.js';
import { listen, type RunningServer } from './transports.js';

// The founding system's published client and worker, unchanged (CommonJS packages without types).
const require = createRequire(import.meta.url);
const clientPackage = require.resolve('@process-engine/external_task_api_client');
const { ExternalTaskApiClientService, ExternalTaskApiExternalAccessor, ExternalTaskWorker } =
  require('@process-engine/external_task_api_client') as ProcessEngineClientModule;
const { HttpClient } = createRequire(clientPackage)('@essential-projects/http') as {
  HttpClient: new () => { config: { url: string } };
};
const { DataModels } = createRequire(clientPackage)('@process-engine/consumer_api_contracts') as {
  DataModels: { ExternalTask: Record<string, new (...args: unknown[]) => unknown> };
};

interface ProcessEngineTask {
  id: string;
  workerId: string;
  topic: string;
  flowNodeInstanceId: string;
  correlationId: string;
  processInstanceId: string;
  payload: unknown;
  lockExpirationTime: string;
  state: string;
}

interface ProcessEngineClient {
  fetchAndLockExternalTasks(...args: unknown[]): Promise<ProcessEngineTask[]>;
  extendLock(...args: unknown[]): Promise<void>;
  finishExternalTask(...args: unknown[]): Promise<void>;
  handleBpmnError(...args: unknown[]): Promise<void>;
  handleServiceError(...args: unknown[]): Promise<void>;
}

interface ProcessEngineClientModule {
  ExternalTaskApiClientService: new (accessor: unknown) => ProcessEngineClient;
  ExternalTaskApiExternalAccessor: new (httpClient: unknown) => unknown;
  ExternalTaskWorker: new (
    url: string,
    identity: { token: string },
    topic: string,
    maxTasks: number,
    longPollingTimeout: number,
    process: (task: ProcessEngineTask) => Promise<unknown>,
  ) => { start(): void; stop(): void };
}

const identity = { token: 'process-engine-token' };
const minute = 60_000;

describe('@process-engine/external_task_api_client against createHttpHandler', () => {
  let repository: InMemoryExternalTaskRepository;
  let api: ExternalTaskApi;
  let running: RunningServer;
  let client: ProcessEngineClient;

  beforeEach(async () => {
    repository = new InMemoryExternalTaskRepository({ logger: silentLogger() });
    api = new ExternalTaskApi({ repository, logger: silentLogger() });
    running = await listen(createHttpHandler(api, { logger: silentLogger(), allowAnyToken: true }));
    const httpClient = new HttpClient();
    httpClient.config = { url: running.origin };
    client = new ExternalTaskApiClientService(new ExternalTaskApiExternalAccessor(httpClient));
  });

  afterEach(async () => {
    await running.close();
    await api.close();
  });

  async function held(): Promise<ProcessEngineTask> {
    await repository.create(newTask('invoice', { payload: { amount: 7 } }));
    const [task] = await client.fetchAndLockExternalTasks(identity, 'pe-worker', 'invoice', 1, 0, minute);
    return task!;
  }

  it('fetchAndLockExternalTasks long-polls and gets the task records it knows', async () => {
    const poll = client.fetchAndLockExternalTasks(identity, 'pe-worker', 'invoice', 5, 10_000, minute);
    const { id } = await repository.create(newTask('invoice', { payload: { amount: 7 } }));
    const [task] = await poll;
    expect(task).to.include({ id, workerId: 'pe-worker', topic: 'invoice', state: 'pending' });
    expect(task).to.have.keys([
      'id',
      'workerId',
      'topic',
      'flowNodeInstanceId',
      'correlationId',
      'processInstanceId',
      'payload',
      'lockExpirationTime',
      'state',
      'createdAt',
      'priority',
      'attempts',
    ]);
    expect(task!.payload).to.deep.equal({ amount: 7 });
    expect(Date.parse(task!.lockExpirationTime)).to.be.greaterThan(Date.now());
  });

  it('extendLock, finishExternalTask, handleBpmnError and handleServiceError (with its errorCode) take effect', async () => {
    const finished = await held();
    await client.extendLock(identity, 'pe-worker', finished.id, 10 * minute);
    expect((await repository.getById(finished.id))!.lockExpirationTime!.getTime()).to.be.greaterThan(
      Date.now() + 9 * minute,
    );
    await client.finishExternalTask(identity, 'pe-worker', finished.id, { invoice: 'INV-1' });
    expect(await repository.getById(finished.id)).to.deep.include({
      state: 'finished',
      result: { invoice: 'INV-1' },
    });

    const bpmn = await held();
    await client.handleBpmnError(identity, 'pe-worker', bpmn.id, 'NEEDS_APPROVAL', 'too large');
    expect((await repository.getById(bpmn.id))?.error).to.deep.equal({
      type: 'bpmn',
      errorCode: 'NEEDS_APPROVAL',
      errorMessage: 'too large',
    });

    const service = await held();
    await client.handleServiceError(identity, 'pe-worker', service.id, 'smtp down', { host: 'mx' }, 'E_SMTP');
    expect((await repository.getById(service.id))?.error).to.deep.equal({
      type: 'service',
      errorMessage: 'smtp down',
      errorDetails: { host: 'mx' },
    });
  });

  it('refusals arrive as its own errors with the status as code (404, 410, 423, 401)', async () => {
    const task = await held();
    const codeOf = async (promise: Promise<unknown>): Promise<unknown> =>
      ((await rejectionOf(promise)) as { code?: unknown }).code;
    expect(await codeOf(client.finishExternalTask(identity, 'pe-worker', 'no-such-task', 1))).to.equal(404);
    expect(await codeOf(client.extendLock(identity, 'someone-else', task.id, minute))).to.equal(423);
    expect(await codeOf(client.fetchAndLockExternalTasks({}, 'pe-worker', 'invoice', 1, 0, minute))).to.equal(
      401,
    );
    await client.finishExternalTask(identity, 'pe-worker', task.id, 1);
    expect(await codeOf(client.finishExternalTask(identity, 'pe-worker', task.id, 1))).to.equal(410);
  });

  it('its ExternalTaskWorker processes tasks to success, BPMN error and service error', async () => {
    const { ExternalTaskSuccessResult, ExternalTaskBpmnError, ExternalTaskServiceError } =
      DataModels.ExternalTask;
    const worker = new ExternalTaskWorker(running.origin, identity, 'invoice', 5, 200, (task) => {
      const { kind } = task.payload as { kind: string };
      if (kind === 'bpmn') return Promise.resolve(new ExternalTaskBpmnError!(task.id, 'REJECTED'));
      if (kind === 'service') {
        return Promise.resolve(new ExternalTaskServiceError!(task.id, 'crashed', { at: 'step 2' }));
      }
      return Promise.resolve(new ExternalTaskSuccessResult!(task.id, { done: kind }));
    });
    const created = await Promise.all(
      ['ok', 'bpmn', 'service'].map((kind) => repository.create(newTask('invoice', { payload: { kind } }))),
    );
    worker.start();
    try {
      const [ok, bpmn, service] = await Promise.all(created.map(({ id }) => api.waitForOutcome(id)));
      expect(ok).to.deep.include({ state: 'finished', result: { done: 'ok' } });
      expect(bpmn).to.deep.include({ state: 'failed', error: { type: 'bpmn', errorCode: 'REJECTED' } });
      expect(service).to.deep.include({
        state: 'failed',
        error: { type: 'service', errorMessage: 'crashed', errorDetails: { at: 'step 2' } },
      });
    } finally {
      worker.stop();
    }
  });
});
