import { expect } from 'chai';
import sinon from 'sinon';
import type { ExternalTask, FetchAndLockOptions } from '../../lib/index.js';
import { TaskAbortedError } from '../../lib/worker/index.js';
import {
  abortListeners,
  deferred,
  delay,
  identity,
  newTask,
  recordEvents,
  stubService,
  taskRecord,
  track,
  useWorkerTestbed,
} from './worker-fixtures.js';

describe('worker: start and stop', () => {
  const bed = useWorkerTestbed();

  describe('during a long poll', () => {
    it('resolves at once, having aborted the signal of the open fetch', async () => {
      const fetchAndLock = sinon.spy(bed.api, 'fetchAndLock');
      const worker = bed.createWorker({ longPollingTimeout: 600_000 });
      await worker.start();
      await bed.clock.tickAsync(1_000);
      expect(fetchAndLock.callCount).to.equal(1);
      const { signal } = fetchAndLock.firstCall.args[1] as FetchAndLockOptions & { signal: AbortSignal };
      expect(signal.aborted).to.equal(false);

      const stopped = track(worker.stop());
      await bed.clock.tickAsync(0); // no time passes
      expect(stopped.settled).to.equal(true);
      expect(signal.aborted).to.equal(true);
      expect(await fetchAndLock.firstCall.returnValue).to.deep.equal([]);
      expect(worker.state).to.equal('stopped');
    });

    it('leaves no timer, no listener and no further fetch behind', async () => {
      const fetchAndLock = sinon.spy(bed.api, 'fetchAndLock');
      const worker = bed.createWorker();
      const listenersBefore = worker.events.eventNames().length;
      await worker.start();
      await bed.clock.tickAsync(1_000);
      await worker.stop();
      expect(bed.clock.countTimers()).to.equal(0);
      const { signal } = fetchAndLock.firstCall.args[1] as { signal: AbortSignal };
      expect(abortListeners(signal)).to.equal(0);
      expect(worker.events.eventNames().length).to.equal(listenersBefore);
      await bed.clock.tickAsync(600_000);
      expect(fetchAndLock.callCount).to.equal(1);
    });

    it('emits worker:started and worker:stopped once each', async () => {
      const worker = bed.createWorker();
      const seen: string[] = [];
      worker.events.on('worker:started', () => seen.push('started'));
      worker.events.on('worker:stopped', () => seen.push('stopped'));
      await Promise.all([worker.start(), worker.start()]);
      expect(worker.state).to.equal('running');
      await Promise.all([worker.stop(), worker.stop()]);
      await worker.stop();
      expect(seen).to.deep.equal(['started', 'stopped']);
    });
  });

  describe('with running handlers', () => {
    it('waits for handlers that end within the grace period and reports their results', async () => {
      const worker = bed.createWorker({
        stopGracePeriod: 5_000,
        handler: () => delay(3_000).then(() => 'ok'),
      });
      await worker.start();
      const { id } = await bed.repository.create(newTask());
      await bed.clock.tickAsync(0);
      expect(worker.running).to.equal(1);

      const stopped = track(worker.stop());
      await bed.clock.tickAsync(2_999);
      expect(stopped.settled).to.equal(false);
      expect(worker.state).to.equal('stopping');
      await bed.clock.tickAsync(1);
      expect(stopped.settled).to.equal(true);
      expect((await bed.repository.getById(id))?.result).to.equal('ok');
      expect(bed.clock.countTimers()).to.equal(0);
    });

    it('aborts handlers still running after the grace period and drops their outcomes', async () => {
      const release = deferred<string>();
      let signal: AbortSignal | undefined;
      const worker = bed.createWorker({
        stopGracePeriod: 5_000,
        handler: (_task, context) => {
          signal = context.signal;
          return release.promise;
        },
      });
      const aborted = recordEvents(worker, 'worker:task:aborted');
      await worker.start();
      const { id } = await bed.repository.create(newTask());
      await bed.clock.tickAsync(0);

      const stopped = track(worker.stop());
      await bed.clock.tickAsync(4_999);
      expect(stopped.settled).to.equal(false);
      expect(signal?.aborted).to.equal(false);
      await bed.clock.tickAsync(1);
      expect(stopped.settled).to.equal(true);
      expect(signal?.reason).to.be.instanceOf(TaskAbortedError).and.include({ code: 'WORKER_STOPPED' });
      expect(aborted.map(({ task }) => task.id)).to.deep.equal([id]);
      expect(bed.clock.countTimers()).to.equal(0);
      expect(abortListeners(signal!)).to.equal(0);

      release.resolve('too late');
      await bed.clock.tickAsync(0);
      const record = await bed.repository.getById(id);
      expect(record?.state).to.equal('pending'); // its lock expires; it will be fetched again
    });

    it('keeps extending locks during the grace period', async () => {
      const service = stubService();
      service.fetchAndLock.onFirstCall().resolves([taskRecord('a')]);
      const worker = bed.createWorker(
        { lockDuration: 4_000, stopGracePeriod: 10_000, handler: () => delay(9_000) },
        service,
      );
      await worker.start();
      await bed.clock.tickAsync(0);
      const stopped = track(worker.stop());
      await bed.clock.tickAsync(9_000);
      expect(stopped.settled).to.equal(true);
      expect(service.extendLock.callCount).to.equal(4);
      expect(service.finishExternalTask.calledOnce).to.equal(true);
    });

    it('aborts at once with stopGracePeriod 0', async () => {
      let signal: AbortSignal | undefined;
      const worker = bed.createWorker({
        stopGracePeriod: 0,
        handler: (_task, context) => {
          signal = context.signal;
          return new Promise(() => undefined);
        },
      });
      await worker.start();
      await bed.repository.create(newTask());
      await bed.clock.tickAsync(0);
      const stopped = track(worker.stop());
      await bed.clock.tickAsync(0);
      expect(stopped.settled).to.equal(true);
      expect(signal?.aborted).to.equal(true);
    });

    it('stops when a task waits for a slot (a service answered more than asked), and never runs it', async () => {
      const service = stubService();
      service.fetchAndLock.onFirstCall().resolves([taskRecord('a'), taskRecord('b')]);
      const started: string[] = [];
      const running = deferred();
      const worker = bed.createWorker(
        {
          concurrency: 1,
          stopGracePeriod: 1_000,
          handler: (task) => {
            started.push(task.id);
            return task.id === 'a' ? running.promise : 'done';
          },
        },
        service,
      );
      const aborted = recordEvents(worker, 'worker:task:aborted');
      await worker.start();
      await bed.clock.tickAsync(0);
      expect(started).to.deep.equal(['a']);
      const stopped = track(worker.stop());
      await bed.clock.tickAsync(1_000);
      running.resolve();
      await bed.clock.tickAsync(0);
      expect(stopped.settled).to.equal(true);
      expect(started).to.deep.equal(['a']);
      expect(aborted.map(({ task }) => task.id)).to.deep.equal(['a', 'b']);
      expect(service.finishExternalTask.called).to.equal(false);
      expect(worker.running).to.equal(0);
    });
  });

  it('does not run tasks a fetch returns after stop() began, and hands them back with unlock', async () => {
    const service = stubService();
    const answer = deferred<ExternalTask[]>();
    service.fetchAndLock.onFirstCall().returns(answer.promise); // ignores the signal, answers late
    const handler = sinon.spy();
    const worker = bed.createWorker({ handler }, service);
    await worker.start();
    const stopped = track(worker.stop());
    await bed.clock.tickAsync(0);
    expect(stopped.settled).to.equal(false); // waits for the fetch it started
    answer.resolve([taskRecord('a'), taskRecord('b')]);
    await bed.clock.tickAsync(0);
    expect(stopped.settled).to.equal(true);
    expect(handler.called).to.equal(false);
    expect(service.unlock.args).to.deep.equal([
      [identity, worker.workerId, 'a'],
      [identity, worker.workerId, 'b'],
    ]);
    expect(service.extendLock.called || service.finishExternalTask.called).to.equal(false);
  });

  it('still stops when handing such a task back fails, and reports it', async () => {
    const service = stubService();
    service.unlock.rejects(new Error('store down'));
    const answer = deferred<ExternalTask[]>();
    service.fetchAndLock.onFirstCall().returns(answer.promise);
    const worker = bed.createWorker({ handler: sinon.spy() }, service);
    const errors = recordEvents(worker, 'worker:error');
    await worker.start();
    const stopped = track(worker.stop());
    answer.resolve([taskRecord('a')]);
    await bed.clock.tickAsync(0);
    expect(stopped.settled).to.equal(true);
    expect(errors.map((event) => event.context.type)).to.deep.equal(['unlock']);
  });

  it('can be started again after stop and picks up where it left off', async () => {
    const worker = bed.createWorker({ handler: (task) => task.id });
    await worker.start();
    await worker.stop();
    const { id } = await bed.repository.create(newTask());
    await worker.start();
    await bed.clock.tickAsync(0);
    expect((await bed.repository.getById(id))?.result).to.equal(id);
  });

  it('start() during stopping starts again once the stop is complete', async () => {
    const worker = bed.createWorker({ stopGracePeriod: 1_000, handler: () => new Promise(() => undefined) });
    await worker.start();
    await bed.repository.create(newTask());
    await bed.clock.tickAsync(0);
    const stopping = track(worker.stop());
    const restarting = track(worker.start());
    await bed.clock.tickAsync(1_000);
    expect(stopping.settled && restarting.settled).to.equal(true);
    expect(worker.state).to.equal('running');
  });

  it('stop(), start(), then stop() again: the last call wins, and the worker is stopped and holds nothing', async () => {
    const worker = bed.createWorker({ stopGracePeriod: 1_000, handler: () => new Promise(() => undefined) });
    const started = recordEvents(worker, 'worker:started');
    await worker.start();
    await bed.repository.create(newTask());
    await bed.clock.tickAsync(0);
    const stopping = track(worker.stop());
    const restarting = track(worker.start());
    const stoppedAgain = track(worker.stop());
    await bed.clock.tickAsync(1_000);
    expect(stopping.settled && restarting.settled && stoppedAgain.settled).to.equal(true);
    expect(worker.state).to.equal('stopped');

    const { id } = await bed.repository.create(newTask());
    await bed.clock.tickAsync(60_000);
    expect(await bed.repository.getById(id)).to.not.have.property('workerId');
    expect(started).to.have.length(1);
    expect(bed.clock.countTimers()).to.equal(0);
  });

  it('stop() on a worker never started resolves at once', async () => {
    const worker = bed.createWorker();
    await worker.stop();
    expect(worker.state).to.equal('idle');
  });

  it('onIdle() resolves when no handler runs', async () => {
    const worker = bed.createWorker({ handler: () => delay(2_000) });
    await worker.start();
    await worker.onIdle();
    await createTasksNow(2);
    await bed.clock.tickAsync(0);
    const idle = track(worker.onIdle());
    await bed.clock.tickAsync(1_999);
    expect(idle.settled).to.equal(false);
    await bed.clock.tickAsync(1);
    expect(idle.settled).to.equal(true);
  });

  async function createTasksNow(count: number): Promise<void> {
    for (let i = 0; i < count; i++) await bed.repository.create(newTask());
  }
});
