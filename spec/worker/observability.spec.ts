import { expect } from 'chai';
import sinon from 'sinon';
import { InternalError, LockedError, type ExternalTaskEvents } from '../../lib/index.js';
import { BpmnError, type ExternalTaskWorkerOptions, type WorkerStats } from '../../lib/worker/index.js';
import {
  deferred,
  newTask,
  recordEvents,
  settle,
  silentLogger,
  stubService,
  taskRecord,
  useWorkerTestbed,
} from './worker-fixtures.js';

/** A handler that acts on `task.payload.act`: finish, throw a BPMN error, throw, or hang until aborted. */
function byPayload(): ExternalTaskWorkerOptions['handler'] {
  return (task, { signal }) => {
    const { act } = task.payload as { act: string };
    if (act === 'bpmn') throw new BpmnError('REJECTED');
    if (act === 'throw') throw new Error('billing answered 503');
    if (act === 'hang') return new Promise((resolve) => signal.addEventListener('abort', resolve));
    return 'done';
  };
}

const none: WorkerStats = {
  fetched: 0,
  fetchFailures: 0,
  finished: 0,
  bpmnErrors: 0,
  serviceErrors: 0,
  retried: 0,
  incidents: 0,
  lockLosses: 0,
  cancelled: 0,
  abortedOnStop: 0,
  reportFailures: 0,
};

describe('worker: stats', () => {
  const bed = useWorkerTestbed();

  it('are all 0 before anything happened', () => {
    expect(bed.createWorker().stats()).to.deep.equal(none);
  });

  it('count the outcomes of the handlers: finished, BPMN errors, retried, incidents, cancelled', async () => {
    const worker = bed.startWorker({
      handler: byPayload(),
      retry: { retries: 1, delay: 10, jitter: 0 },
      concurrency: 5,
    });
    const ids: Record<string, string> = {};
    for (const act of ['finish', 'bpmn', 'throw', 'hang']) {
      ids[act] = (await bed.repository.create(newTask('send-invoice', { act }))).id;
    }
    await settle(
      bed.clock,
      Promise.all(['finish', 'bpmn', 'throw'].map((act) => bed.api.waitForOutcome(ids[act] as string))),
      10,
    );
    await bed.repository.cancel({ externalTaskId: ids['hang'] as string });
    await bed.clock.tickAsync(0);

    const stats = worker.stats();
    expect(stats).to.deep.equal({
      ...none,
      fetched: 5, // the failing task twice: its first attempt and its retry
      finished: 1,
      bpmnErrors: 1,
      serviceErrors: 2,
      retried: 1,
      incidents: 1,
      cancelled: 1,
    });
    expect(Object.isFrozen(stats)).to.equal(true);
  });

  it('count failed fetches, lost locks, failed reports and handlers aborted by stop()', async () => {
    const service = stubService();
    service.fetchAndLock.onFirstCall().rejects(new InternalError('the store is down'));
    service.fetchAndLock
      .onSecondCall()
      .resolves([taskRecord('lost'), taskRecord('unreported'), taskRecord('stuck')]);
    service.extendLock.callsFake((_identity, _workerId, externalTaskId) =>
      externalTaskId === 'lost'
        ? Promise.reject(new LockedError('lost', 'me', 'someone-else', new Date()))
        : Promise.resolve(),
    );
    service.finishExternalTask.rejects(new InternalError('the store is down'));
    const stuck = deferred();
    const worker = bed.startWorker(
      {
        lockDuration: 10_000,
        stopGracePeriod: 1_000,
        handler: (task, { signal }) => {
          if (task.id === 'unreported') return 'done';
          if (task.id === 'stuck') return stuck.promise; // ignores its signal
          return new Promise((resolve) => signal.addEventListener('abort', resolve));
        },
      },
      service,
    );
    await bed.clock.tickAsync(6_000); // the back-off, the fetch, the first extension
    await settle(bed.clock, worker.stop(), 100);
    stuck.resolve();

    expect(worker.stats()).to.deep.equal({
      ...none,
      fetched: 3,
      fetchFailures: 1,
      lockLosses: 1,
      reportFailures: 1,
      abortedOnStop: 1,
    });
  });
});

describe('worker: events', () => {
  const bed = useWorkerTestbed();

  it('are all named worker:…, and every payload names the worker', async () => {
    const worker = bed.createWorker({
      handler: byPayload(),
      retry: { retries: 1, delay: 10, jitter: 0 },
      lockDuration: 1_000,
    });
    const emit = sinon.spy(worker.events, 'emit');
    await worker.start();
    const ids: string[] = [];
    for (const act of ['finish', 'bpmn', 'throw']) {
      ids.push((await bed.repository.create(newTask('send-invoice', { act }))).id);
    }
    await settle(bed.clock, Promise.all(ids.map((id) => bed.api.waitForOutcome(id))), 10);
    await settle(bed.clock, worker.stop(), 10);

    const names = new Set(emit.getCalls().map((call) => call.args[0] as string));
    expect([...names]).to.include.members([
      'worker:started',
      'worker:fetched',
      'worker:task:started',
      'worker:task:finished',
      'worker:task:failed',
      'worker:stopped',
    ]);
    expect([...names].filter((name) => !name.startsWith('worker:'))).to.deep.equal([]);
    for (const call of emit.getCalls()) {
      expect(call.args[1], String(call.args[0])).to.have.property('workerId', worker.workerId);
    }
  });

  it('report a failure with the type and the incident flag the API reports for it', async () => {
    const worker = bed.startWorker({
      handler: byPayload(),
      retry: { retries: 1, delay: 10, jitter: 0 },
    });
    const workerSaw = recordEvents(worker, 'worker:task:failed');
    const apiSaw: Parameters<ExternalTaskEvents['task:failed']>[0][] = [];
    bed.api.events.on('task:failed', (event) => apiSaw.push(event));
    const ids: string[] = [];
    for (const act of ['bpmn', 'throw']) {
      ids.push((await bed.repository.create(newTask('send-invoice', { act }))).id);
    }
    await settle(bed.clock, Promise.all(ids.map((id) => bed.api.waitForOutcome(id))), 10);
    await bed.clock.tickAsync(0);

    // The retried attempt is no outcome for the API; the two final ones are.
    expect(workerSaw.map(({ type, incident }) => ({ type, incident }))).to.have.deep.members([
      { type: 'bpmn', incident: false },
      { type: 'service', incident: false },
      { type: 'service', incident: true },
    ]);
    const finals = workerSaw.filter((event) => event.type === 'bpmn' || event.incident);
    expect(finals.map(({ task, type, incident }) => ({ id: task.id, type, incident }))).to.have.deep.members(
      apiSaw.map(({ task, error, incident }) => ({ id: task.id, type: error.type, incident })),
    );
  });
});

describe('worker: a handler that fails is logged once per run', () => {
  const bed = useWorkerTestbed();

  it('as a warning while it is retried, then as an error when it becomes an incident; one line each', async () => {
    const logger = silentLogger();
    const worker = bed.startWorker({
      logger,
      handler: () => {
        throw new Error('billing answered 503\n    at somewhere (billing.ts:1:1)');
      },
      retry: { retries: 1, delay: 20, jitter: 0 },
    });
    const { id } = await bed.repository.create(newTask());
    await settle(bed.clock, bed.api.waitForOutcome(id), 10);

    expect(logger.warn.callCount).to.equal(1);
    expect(logger.error.callCount).to.equal(1);
    const [warning, warningDetails] = logger.warn.firstCall.args as [string, Record<string, unknown>];
    expect(warning).to.equal(
      `The handler of external task ${id} (topic send-invoice) failed: "billing answered 503". ` +
        'It is retried in 20 ms (1 retry left).',
    );
    expect(warningDetails).to.deep.equal({
      externalTaskId: id,
      topic: 'send-invoice',
      workerId: worker.workerId,
      attempts: 1,
    });
    const [error, errorDetails] = logger.error.firstCall.args as [string, Record<string, unknown>];
    expect(error).to.match(new RegExp(`^The handler of external task ${id} \\(topic send-invoice\\) failed`));
    expect(error).to.include('No retries are left: the task failed as an incident');
    expect(error).to.include('setRetries');
    expect(errorDetails).to.include({ attempts: 2 });
  });

  it('as an error saying how to retry when the worker retries nothing', async () => {
    const logger = silentLogger();
    bed.startWorker({
      logger,
      handler: () => {
        throw new Error('boom');
      },
    });
    const { id } = await bed.repository.create(newTask());
    await settle(bed.clock, bed.api.waitForOutcome(id), 10);

    expect(logger.warn.called).to.equal(false);
    expect(logger.error.callCount).to.equal(1);
    expect(logger.error.firstCall.args[0]).to.include(
      'failed: "boom". The task failed (the worker retries no task: set its `retry` option to retry).',
    );
  });

  it('says when the failure could not be reported either', async () => {
    const logger = silentLogger();
    const service = stubService();
    service.fetchAndLock.onFirstCall().resolves([taskRecord('a')]);
    service.handleServiceError.rejects(new InternalError('the store is down'));
    bed.startWorker(
      {
        logger,
        handler: () => {
          throw new Error('boom');
        },
      },
      service,
    );
    await bed.clock.tickAsync(0);

    const lines = logger.error.getCalls().map((call) => call.args[0] as string);
    expect(lines.filter((line) => line.startsWith('The handler of external task a'))).to.deep.equal([
      'The handler of external task a (topic send-invoice) failed: "boom". ' +
        'Reporting the failure failed too: the task is fetched again once its lock expires.',
    ]);
  });

  it('logs nothing for a BPMN error, a business outcome the process handles', async () => {
    const logger = silentLogger();
    bed.startWorker({
      logger,
      handler: () => {
        throw new BpmnError('REJECTED');
      },
    });
    const { id } = await bed.repository.create(newTask());
    await settle(bed.clock, bed.api.waitForOutcome(id), 10);

    expect(logger.warn.called).to.equal(false);
    expect(logger.error.called).to.equal(false);
  });
});
