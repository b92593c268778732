import { expect } from 'chai';
import {
  BadRequestError,
  ExternalTaskApi,
  ForbiddenError,
  InternalError,
  UnauthorizedError,
} from '../../lib/index.js';
import { WorkerHaltedError } from '../../lib/worker/index.js';
import {
  createTasks,
  newTask,
  recordEvents,
  silentLogger,
  stubService,
  useWorkerTestbed,
} from './worker-fixtures.js';

describe('worker: fetches refused for good, and a closed API', () => {
  const bed = useWorkerTestbed();

  it('stops when a fetch answers 401 to a worker without identity, saying the service refused it', async () => {
    const logger = silentLogger();
    const fetch = countFetches();
    const worker = bed.startWorker({ identity: undefined, logger });
    const errors = recordEvents(worker, 'worker:error');
    const polls = recordEvents(worker, 'worker:fetchFailed');
    await bed.clock.tickAsync(60_000);

    expect(worker.state).to.equal('stopped');
    expect(errors).to.have.length(1);
    expect(errors[0]?.context).to.deep.equal({ type: 'fetch' });
    const error = errors[0]?.error as WorkerHaltedError;
    expect(error).to.be.instanceOf(WorkerHaltedError).and.include({ code: 'FETCH_REFUSED' });
    expect(error.cause).to.be.instanceOf(UnauthorizedError);
    expect(error.message).to.match(
      /^The service refused this worker's identity \(401\): check the token it sends/,
    );
    expect(error.message).to.include('`token` of its HttpExternalTaskClient');
    expect(error.message).to.include('no identity was passed');
    expect(polls).to.deep.equal([]);
    expect(logger.warn.called).to.equal(false);
    expect(logger.error.callCount).to.equal(1);
    expect(fetch.calls).to.equal(1);
    expect(bed.clock.countTimers()).to.equal(0);
  });

  /** Counts the fetches made on the testbed's api from now on. */
  function countFetches(): { calls: number } {
    const counter = { calls: 0 };
    const fetchAndLock = bed.api.fetchAndLock.bind(bed.api);
    bed.api.fetchAndLock = (...args) => {
      counter.calls++;
      return fetchAndLock(...args);
    };
    return counter;
  }

  for (const [status, refusal] of [
    [401, new UnauthorizedError('The token was revoked.')],
    [403, new ForbiddenError('This worker may not fetch send-invoice.')],
    [400, new BadRequestError('maxTasks', 'maxTasks must be at most 3.')],
  ] as const) {
    it(`stops when a fetch answers ${status}, naming the cause`, async () => {
      const service = stubService();
      service.fetchAndLock.rejects(refusal);
      const worker = bed.startWorker({}, service);
      const errors = recordEvents(worker, 'worker:error');
      await bed.clock.tickAsync(60_000);

      expect(worker.state).to.equal('stopped');
      expect(service.fetchAndLock.callCount).to.equal(1);
      expect(errors).to.have.length(1);
      const error = errors[0]?.error as WorkerHaltedError;
      expect(error).to.be.instanceOf(WorkerHaltedError).and.include({ code: 'FETCH_REFUSED' });
      expect(error.cause).to.equal(refusal);
      expect(error.message).to.include(`(${status})`).and.include(refusal.message);
      if (status === 401)
        expect(error.message).to.include("The service refused this worker's identity (401)");
      expect(await worker.onStopped(), 'onStopped tells why it halted').to.equal(error);
    });
  }

  it('onStopped resolves with the halt reason when the worker halts, and undefined after stop()', async () => {
    const service = stubService();
    service.fetchAndLock.rejects(new UnauthorizedError('The token was revoked.'));
    const halting = bed.startWorker({}, service);
    const halted = halting.onStopped();
    let settled = false;
    void halted.then(() => (settled = true));
    await Promise.resolve();
    expect(settled, 'still running: not yet').to.equal(false);
    await bed.clock.tickAsync(0);
    const reason = await halted;
    expect(reason).to.be.instanceOf(WorkerHaltedError).and.include({ code: 'FETCH_REFUSED' });
    expect(reason?.message).to.include('(401)');

    const stopping = bed.startWorker({}, stubService());
    const stoppedByCall = stopping.onStopped();
    await bed.clock.tickAsync(0);
    await stopping.stop();
    expect(await stoppedByCall).to.equal(undefined);
    expect(await stopping.onStopped(), 'at once when stopped').to.equal(undefined);
  });

  it('onStopped resolves with the halt reason also when a worker:stopped listener starts the worker again', async () => {
    const service = stubService();
    service.fetchAndLock.onFirstCall().rejects(new UnauthorizedError('The token was revoked.'));
    const worker = bed.startWorker({}, service);
    const halted = worker.onStopped();
    worker.events.once('worker:stopped', () => void worker.start());
    await bed.clock.tickAsync(0);
    expect(await halted)
      .to.be.instanceOf(WorkerHaltedError)
      .and.include({ code: 'FETCH_REFUSED' });
    expect(worker.state, 'started again by the listener').to.equal('running');
  });

  it('still backs off and retries a fetch that fails otherwise (500)', async () => {
    const service = stubService();
    service.fetchAndLock.onFirstCall().rejects(new InternalError('store down'));
    const worker = bed.startWorker({ backoff: { initialDelay: 1000, jitter: 0 } }, service);
    await bed.clock.tickAsync(1000);

    expect(worker.state).to.equal('running');
    expect(service.fetchAndLock.callCount).to.equal(2);
  });

  it('stops with API_CLOSED when its API is closed, instead of polling [] forever', async () => {
    const worker = bed.startWorker();
    const errors = recordEvents(worker, 'worker:error');
    const stopped = recordEvents(worker, 'worker:stopped');
    await bed.clock.tickAsync(1000);
    await bed.api.close();
    await bed.clock.tickAsync(60_000);

    expect(worker.state).to.equal('stopped');
    expect(stopped).to.have.length(1);
    expect(errors).to.have.length(1);
    expect(errors[0]?.context).to.deep.equal({ type: 'fetch' });
    expect(errors[0]?.error).to.be.instanceOf(WorkerHaltedError).and.include({ code: 'API_CLOSED' });
    expect(bed.clock.countTimers()).to.equal(0);
  });

  it('finishes the tasks it runs when its API is closed, then stops', async () => {
    const worker = bed.startWorker({ handler: () => 'done' });
    const [id] = await createTasks(bed.repository, 1);
    await bed.clock.tickAsync(0);
    expect((await bed.repository.getById(id!))?.workerId, 'the worker runs the task').to.equal(
      worker.workerId,
    );
    await bed.api.close();
    await bed.clock.tickAsync(60_000);

    expect(worker.state).to.equal('stopped');
    expect((await bed.repository.getById(id!))?.state).to.equal('finished');
  });

  it('a started worker whose API was already closed stops at its first fetch', async () => {
    const api = new ExternalTaskApi({ repository: bed.repository, logger: silentLogger() });
    await api.close();
    const worker = bed.startWorker({}, api);
    await bed.repository.create(newTask());
    await bed.clock.tickAsync(0);

    expect(worker.state).to.equal('stopped');
  });
});
