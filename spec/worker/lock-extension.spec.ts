import { expect } from 'chai';
import sinon from 'sinon';
import { InternalError } from '../../lib/index.js';
import type { TaskContext } from '../../lib/worker/index.js';
import {
  deferred,
  delay,
  identity,
  newTask,
  recordEvents,
  settle,
  startTime,
  stubService,
  taskRecord,
  useWorkerTestbed,
} from './worker-fixtures.js';

describe('worker: automatic lock extension', () => {
  const bed = useWorkerTestbed();

  it('extends every lockDuration / 2 while a slow handler runs, and stops when it settles', async () => {
    const extendedAt: number[] = [];
    const extendLock = bed.api.extendLock.bind(bed.api);
    const spy = sinon.stub(bed.api, 'extendLock').callsFake((...args) => {
      extendedAt.push(Date.now() - startTime);
      return extendLock(...args);
    });
    bed.startWorker({ lockDuration: 10_000, handler: () => delay(22_000) });
    const { id } = await bed.repository.create(newTask());

    await bed.clock.tickAsync(22_000);
    expect(extendedAt).to.deep.equal([5_000, 10_000, 15_000, 20_000]);
    expect(spy.alwaysCalledWith(identity, sinon.match.string, id, 10_000)).to.equal(true);
    expect((await bed.repository.getById(id))?.state).to.equal('finished');

    await bed.clock.tickAsync(60_000);
    expect(spy.callCount).to.equal(4);
  });

  it('uses extendLockInterval when given', async () => {
    const service = stubService();
    service.fetchAndLock.onFirstCall().resolves([taskRecord('a')]);
    bed.startWorker(
      { lockDuration: 10_000, extendLockInterval: 2_000, handler: () => delay(7_000) },
      service,
    );
    await bed.clock.tickAsync(7_000);
    expect(service.extendLock.callCount).to.equal(3);
    expect(service.extendLock.alwaysCalledWith(identity, sinon.match.string, 'a', 10_000)).to.equal(true);
  });

  it('keeps a task whose handler is slower than the lock; another worker cannot take it', async () => {
    const done = deferred();
    const first = bed.startWorker({ workerId: 'first', lockDuration: 10_000, handler: () => done.promise });
    const { id } = await bed.repository.create(newTask());
    await bed.clock.tickAsync(0);
    expect(first.running).to.equal(1);

    await bed.clock.tickAsync(35_000); // 3.5 lock durations
    const stolen = await bed.api.fetchAndLockExternalTasks(identity, 'second', 'send-invoice', 1, 0, 10_000);
    expect(stolen).to.deep.equal([]);
    const record = await bed.repository.getById(id);
    expect(record?.workerId).to.equal('first');
    expect(record?.lockExpirationTime?.getTime()).to.be.greaterThan(Date.now());

    done.resolve();
    await settle(bed.clock, bed.api.waitForOutcome(id));
    expect((await bed.repository.getById(id))?.state).to.equal('finished');
  });

  it('emits worker:task:extended for each extension', async () => {
    const worker = bed.startWorker({ lockDuration: 10_000, handler: () => delay(11_000) });
    const extended = recordEvents(worker, 'worker:task:extended');
    const { id } = await bed.repository.create(newTask());
    await bed.clock.tickAsync(11_000);
    expect(extended).to.have.length(2);
    expect(extended[0]?.task.id).to.equal(id);
  });

  it('on another extend failure emits worker:task:extendFailed and tries again at the next interval', async () => {
    const service = stubService();
    service.fetchAndLock.onFirstCall().resolves([taskRecord('a')]);
    service.extendLock.onFirstCall().rejects(new InternalError('store down'));
    const handler = sinon.spy((_task: unknown, { signal }: TaskContext) =>
      delay(16_000).then(() => signal.aborted),
    );
    const worker = bed.startWorker({ lockDuration: 10_000, handler }, service);
    const failed = recordEvents(worker, 'worker:task:extendFailed');
    await bed.clock.tickAsync(16_000);
    expect(service.extendLock.callCount).to.equal(3);
    expect(failed).to.have.length(1);
    expect(failed[0]?.error).to.be.instanceOf(InternalError);
    expect(service.finishExternalTask.calledOnceWith(identity, sinon.match.string, 'a', false)).to.equal(
      true,
    );
  });

  it('extends at once when the handler calls extendLock, and restarts the cadence', async () => {
    const service = stubService();
    service.fetchAndLock.onFirstCall().resolves([taskRecord('a')]);
    bed.startWorker(
      {
        lockDuration: 10_000,
        handler: async (_task, { extendLock }) => {
          await delay(3_000);
          await extendLock(60_000);
          await delay(7_000);
        },
      },
      service,
    );
    await bed.clock.tickAsync(3_000);
    expect(service.extendLock.firstCall.args[3]).to.equal(60_000);
    await bed.clock.tickAsync(4_999);
    expect(service.extendLock.callCount).to.equal(1);
    await bed.clock.tickAsync(1);
    expect(service.extendLock.callCount).to.equal(2);
    expect(service.extendLock.secondCall.args[3]).to.equal(10_000);
  });

  it('never runs a task twice at once when its lock lapsed and its own next fetch takes it again', async () => {
    const gatewayTimeout = Object.assign(new Error('gateway timeout'), { status: 504 });
    sinon.stub(bed.api, 'extendLock').rejects(gatewayTimeout);
    const starts: number[] = [];
    const worker = bed.startWorker({
      concurrency: 2,
      lockDuration: 10_000,
      handler: async () => {
        starts.push(Date.now() - startTime);
        await delay(35_000);
        return 'done';
      },
    });
    const errors = recordEvents(worker, 'worker:error');
    const { id } = await bed.repository.create(newTask());
    await bed.clock.tickAsync(34_999);

    expect(starts).to.deep.equal([0]);
    expect(worker.running).to.equal(1);
    // The fetches that took it again renewed its lock for the running handler, so nobody else took it.
    expect((await bed.repository.getById(id))?.attempts).to.be.above(1);
    expect(await bed.repository.getById(id)).to.include({ state: 'pending', workerId: worker.workerId });

    const outcome = await settle(bed.clock, bed.api.waitForOutcome(id));
    expect(outcome).to.include({ state: 'finished', result: 'done' });
    expect(errors).to.deep.equal([]);
  });

  it('leaves no timer behind once the handler has settled', async () => {
    const service = stubService();
    service.fetchAndLock.onFirstCall().resolves([taskRecord('a')]);
    // A long poll without a timer of its own, so any timer left would be the worker's.
    service.fetchAndLock
      .onSecondCall()
      .callsFake(
        (_identity, { signal }) =>
          new Promise((resolve) => signal?.addEventListener('abort', () => resolve([]), { once: true })),
      );
    const worker = bed.startWorker({ lockDuration: 10_000, handler: () => delay(12_000) }, service);
    await bed.clock.tickAsync(12_000);
    expect(worker.running).to.equal(0);
    expect(service.fetchAndLock.callCount).to.equal(2);
    expect(bed.clock.countTimers()).to.equal(0);
  });
});
