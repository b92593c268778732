import { expect } from 'chai';
import { Client, Variables, type Handler, type Task } from 'camunda-external-task-client-js';
import { ExternalTaskApi, InMemoryExternalTaskRepository, type ExternalTask } from '../../lib/index.js';
import { createCamundaRestHandler } from '../../lib/http/index.js';
import { newTask } from '../support/fixtures.js';
import { silentLogger } from '../worker/worker-fixtures.js';
import { listen, type RunningServer } from './transports.js';

const token = 'camunda-worker-token';

// Workers written for Camunda 7 with its published Node client, unchanged, against our handler.
describe('camunda-external-task-client-js against createCamundaRestHandler', () => {
  let repository: InMemoryExternalTaskRepository;
  let api: ExternalTaskApi;
  let running: RunningServer;
  let client: Client;
  /** Rejects when the client reports a failed handler or poll (the client itself only emits them). */
  let clientFailed: Promise<never>;

  beforeEach(async () => {
    repository = new InMemoryExternalTaskRepository({ logger: silentLogger() });
    api = new ExternalTaskApi({ repository, logger: silentLogger() });
    running = await listen(createCamundaRestHandler(api, { logger: silentLogger(), allowAnyToken: true }));
    client = new Client({
      baseUrl: `${running.origin}/engine-rest`,
      workerId: 'camunda-worker',
      interval: 10,
      asyncResponseTimeout: 5000,
      lockDuration: 60_000,
      autoPoll: false,
      interceptors: (config) => ({
        ...config,
        headers: { ...config.headers, Authorization: `Bearer ${token}` },
      }),
    });
    clientFailed = new Promise<never>((_resolve, reject) => {
      client.on('handler:error', reject);
      client.on('poll:error', reject);
    });
    clientFailed.catch(() => undefined);
  });

  afterEach(async () => {
    client.stop();
    await running.close();
    await api.close();
  });

  /** Runs `handler` for the topic's tasks, and answers the outcome of task `id`. */
  async function outcomeOf(id: string, topic: string, handler: Handler): Promise<ExternalTask> {
    client.subscribe(topic, handler);
    client.start();
    return Promise.race([api.waitForOutcome(id), clientFailed]);
  }

  it('hands the payload as typed variables, and a complete’s variables become the result', async () => {
    const payload = {
      customer: 'ACME',
      amount: 12.5,
      count: 3,
      big: 5_000_000_000,
      vip: true,
      lines: [{ sku: 'a-1', quantity: 2 }],
      note: null,
    };
    const created = await repository.create(newTask('invoice', { payload, priority: 4 }));
    let seen: Task | undefined;
    const outcome = await outcomeOf(created.id, 'invoice', async ({ task, taskService }) => {
      seen = task;
      const variables = new Variables()
        .set('approved', true)
        .set('total', 42.5)
        .set('lines', [{ sku: 'a-1', price: 21.25 }])
        .set('approvedAt', new Date(Date.UTC(2026, 0, 31, 12)));
      await taskService.complete(task, variables);
    });

    expect(seen).to.include({
      id: created.id,
      topicName: 'invoice',
      workerId: 'camunda-worker',
      businessKey: created.correlationId,
      processInstanceId: created.processInstanceId,
      activityInstanceId: created.flowNodeInstanceId,
      priority: 4,
    });
    expect(seen!.lockExpirationTime).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    expect(seen!.variables.getAll()).to.deep.equal(payload);
    const types = Object.fromEntries(
      Object.entries(seen!.variables.getAllTyped()).map(([name, typed]) => [name, typed.type]),
    );
    expect(types).to.deep.equal({
      customer: 'string',
      amount: 'double',
      count: 'integer',
      big: 'long',
      vip: 'boolean',
      lines: 'json',
      note: 'null',
    });
    expect(outcome).to.include({ state: 'finished' });
    expect(outcome.result).to.deep.equal({
      approved: true,
      total: 42.5,
      lines: [{ sku: 'a-1', price: 21.25 }],
      approvedAt: '2026-01-31T12:00:00.000+0000',
    });
  });

  it('handleFailure with retries: the task comes back with its error, then succeeds', async () => {
    const created = await repository.create(newTask('invoice'));
    const runs: Task[] = [];
    const outcome = await outcomeOf(created.id, 'invoice', async ({ task, taskService }) => {
      runs.push(task);
      if (runs.length === 1) {
        await taskService.handleFailure(task, {
          errorMessage: 'The mail server is down.',
          errorDetails: 'ECONNREFUSED 10.0.0.7:25',
          retries: 2,
          retryTimeout: 10,
        });
      } else {
        await taskService.complete(task);
      }
    });

    expect(runs.map((task) => task.id)).to.deep.equal([created.id, created.id]);
    expect(runs[0]).to.include({ retries: null, errorMessage: null });
    expect(runs[1]).to.include({
      retries: 2,
      errorMessage: 'The mail server is down.',
      errorDetails: 'ECONNREFUSED 10.0.0.7:25',
    });
    expect(outcome).to.include({ state: 'finished' });
    expect(outcome.result).to.deep.equal({});
  });

  it('handleFailure with retries 0 is an incident, handleBpmnError the business error', async () => {
    const incident = await repository.create(newTask('invoice', { payload: { iban: 'DE00' } }));
    const business = await repository.create(newTask('invoice', { payload: { sku: 'a-1' } }));
    client.subscribe('invoice', ({ task, taskService }) =>
      task.variables.getAll().iban === undefined
        ? taskService.handleBpmnError(task, 'OUT_OF_STOCK', 'Item a-1 is out of stock.')
        : taskService.handleFailure(task, { errorMessage: 'Invalid IBAN', errorDetails: 'DE00', retries: 0 }),
    );
    client.start();
    const outcomes = Promise.all([api.waitForOutcome(incident.id), api.waitForOutcome(business.id)]);
    const [failed, refused] = await Promise.race([outcomes, clientFailed]);

    expect(failed).to.deep.include({
      state: 'failed',
      incident: true,
      retries: 0,
      error: { type: 'service', errorMessage: 'Invalid IBAN', errorDetails: 'DE00' },
    });
    expect(refused).to.deep.include({
      state: 'failed',
      error: { type: 'bpmn', errorCode: 'OUT_OF_STOCK', errorMessage: 'Item a-1 is out of stock.' },
    });
  });

  it('extendLock sets the lock to now plus the new duration', async () => {
    const created = await repository.create(newTask('invoice'));
    let extendedUntil: Date | undefined;
    let lockedUntil: Date | undefined;
    const outcome = await outcomeOf(created.id, 'invoice', async ({ task, taskService }) => {
      lockedUntil = (await repository.getById(task.id))!.lockExpirationTime;
      const before = Date.now();
      await taskService.extendLock(task, 3_600_000);
      extendedUntil = (await repository.getById(task.id))!.lockExpirationTime;
      expect(extendedUntil!.getTime()).to.be.within(before + 3_600_000, Date.now() + 3_600_000);
      await taskService.complete(task);
    });

    expect(extendedUntil!.getTime()).to.be.greaterThan(lockedUntil!.getTime() + 3_000_000);
    expect(outcome).to.include({ state: 'finished' });
  });

  it('unlock gives the task back, available at once', async () => {
    const created = await repository.create(newTask('invoice'));
    const runs: string[] = [];
    const outcome = await outcomeOf(created.id, 'invoice', async ({ task, taskService }) => {
      runs.push(task.id);
      if (runs.length === 1) {
        await taskService.unlock(task);
        expect((await repository.getById(task.id))!.lockExpirationTime).to.equal(undefined);
      } else {
        await taskService.complete(task);
      }
    });

    expect(runs).to.deep.equal([created.id, created.id]);
    expect(outcome).to.include({ state: 'finished', attempts: 2 });
  });
});
