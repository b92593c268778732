import { expect } from 'chai';
import sinon from 'sinon';
import { GoneError, LockedError, NotFoundError } from '../../lib/index.js';
import {
  TaskAbortedError,
  type ExternalTaskWorker,
  type ExternalTaskWorkerOptions,
  type TaskContext,
} from '../../lib/worker/index.js';
import {
  abortListeners,
  deferred,
  newTask,
  recordEvents,
  silentLogger,
  stubService,
  taskRecord,
  useWorkerTestbed,
} from './worker-fixtures.js';

describe('worker: cancellation when the lock is lost', () => {
  const bed = useWorkerTestbed();

  function startWorker(
    service: ConstructorParameters<typeof ExternalTaskWorker>[0],
    overrides: Partial<ExternalTaskWorkerOptions>,
  ): ExternalTaskWorker {
    return bed.startWorker(overrides, service);
  }

  for (const [status, error] of [
    [404, new NotFoundError('a')],
    [410, new GoneError('a', 'finished')],
    [423, new LockedError('a', 'me', 'someone-else', new Date())],
  ] as const) {
    it(`extend answers ${status}: aborts the handler's signal, drops its result, emits worker:task:aborted`, async () => {
      const service = stubService();
      service.fetchAndLock.onFirstCall().resolves([taskRecord('a')]);
      service.extendLock.rejects(error);
      const release = deferred<string>();
      let signal: AbortSignal | undefined;
      const worker = startWorker(service, {
        lockDuration: 10_000,
        handler: (_task, context: TaskContext) => {
          signal = context.signal;
          return release.promise;
        },
      });
      const aborted = recordEvents(worker, 'worker:task:aborted');

      await bed.clock.tickAsync(4_999);
      expect(signal?.aborted).to.equal(false);
      await bed.clock.tickAsync(1);
      expect(signal?.aborted).to.equal(true);
      expect(signal?.reason)
        .to.be.instanceOf(TaskAbortedError)
        .and.include({ code: 'LOCK_LOST', externalTaskId: 'a' });
      expect((signal?.reason as TaskAbortedError).cause).to.equal(error);
      expect(aborted).to.have.length(1);
      expect(aborted[0]?.reason).to.equal(signal?.reason);
      expect(worker.running).to.equal(0); // the slot is free again at once

      release.resolve('too late');
      await bed.clock.tickAsync(20_000);
      expect(service.finishExternalTask.called).to.equal(false);
      expect(service.handleServiceError.called).to.equal(false);
      expect(service.extendLock.callCount).to.equal(1);
      expect(abortListeners(signal!)).to.equal(0);
    });
  }

  it('drops a rejection of an aborted handler as well (no report, no unhandled rejection)', async () => {
    const service = stubService();
    service.fetchAndLock.onFirstCall().resolves([taskRecord('a')]);
    service.extendLock.rejects(new GoneError('a', 'failed'));
    const worker = startWorker(service, {
      lockDuration: 10_000,
      handler: (_task, { signal }) =>
        new Promise((_resolve, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason as Error)),
        ),
    });
    const failed = recordEvents(worker, 'worker:task:failed');
    await bed.clock.tickAsync(10_000);
    expect(service.handleServiceError.called).to.equal(false);
    expect(failed).to.deep.equal([]);
  });

  it('fetches a new task into the freed slot while the aborted handler ignores its signal', async () => {
    const service = stubService();
    service.fetchAndLock.onFirstCall().resolves([taskRecord('a')]);
    service.fetchAndLock.onSecondCall().resolves([taskRecord('b')]);
    service.extendLock.withArgs(sinon.match.any, sinon.match.any, 'a').rejects(new NotFoundError('a'));
    const started: string[] = [];
    startWorker(service, {
      concurrency: 1,
      lockDuration: 10_000,
      handler: (task) => {
        started.push(task.id);
        return task.id === 'a' ? new Promise(() => undefined) : 'b done';
      },
    });
    await bed.clock.tickAsync(5_000);
    expect(started).to.deep.equal(['a', 'b']);
    expect(
      service.finishExternalTask.calledOnceWith(sinon.match.any, sinon.match.any, 'b', 'b done'),
    ).to.equal(true);
  });

  describe('a task the engine cancels', () => {
    it('aborts its handler at once when the API announces task:cancelled, without a warning', async () => {
      const logger = silentLogger();
      let signal: AbortSignal | undefined;
      const worker = bed.startWorker({
        lockDuration: 10_000,
        logger,
        handler: (_task, context) => {
          signal = context.signal;
          return new Promise(() => undefined);
        },
      });
      const aborted = recordEvents(worker, 'worker:task:aborted');
      const { id } = await bed.repository.create(newTask());
      await bed.clock.tickAsync(0);
      expect(signal?.aborted).to.equal(false);

      await bed.repository.cancel({ externalTaskId: id });
      await bed.clock.tickAsync(0);

      expect(signal?.aborted).to.equal(true);
      const reason = signal?.reason as TaskAbortedError;
      expect(reason)
        .to.be.instanceOf(TaskAbortedError)
        .and.include({ code: 'LOCK_LOST', externalTaskId: id });
      expect(reason.cause).to.be.instanceOf(GoneError).and.include({ state: 'cancelled' });
      expect(aborted.map((event) => event.reason)).to.deep.equal([reason]);
      expect(worker.running).to.equal(0);
      expect(logger.warn.called).to.equal(false);
      expect(logger.error.called).to.equal(false);
    });

    it('leaves no listener on the API once stopped, and listens again when restarted', async () => {
      const worker = bed.createWorker();
      await worker.start();
      expect(bed.api.events.listenerCount('task:cancelled')).to.equal(1);
      await worker.stop();
      expect(bed.api.events.listenerCount('task:cancelled')).to.equal(0);
      await worker.start();
      expect(bed.api.events.listenerCount('task:cancelled')).to.equal(1);
    });

    it('over a service without events, notices it at the next extension, without a warning', async () => {
      const logger = silentLogger();
      const service = stubService();
      service.fetchAndLock.onFirstCall().resolves([taskRecord('a')]);
      service.extendLock.rejects(new GoneError('a', 'cancelled'));
      let signal: AbortSignal | undefined;
      bed.startWorker(
        {
          lockDuration: 10_000,
          logger,
          handler: (_task, context) => {
            signal = context.signal;
            return new Promise(() => undefined);
          },
        },
        service,
      );
      await bed.clock.tickAsync(5_000);

      expect((signal?.reason as TaskAbortedError).code).to.equal('LOCK_LOST');
      expect(logger.warn.called).to.equal(false);
    });
  });

  it('with the real stack: a task finished behind the worker’s back (410) aborts its handler', async () => {
    let signal: AbortSignal | undefined;
    const worker = startWorker(bed.api, {
      lockDuration: 10_000,
      handler: (_task, context) => {
        signal = context.signal;
        return new Promise(() => undefined);
      },
    });
    const { id } = await bed.repository.create(newTask());
    await bed.clock.tickAsync(1_000);
    // Someone reports for the same worker id (a duplicate process, say): the task is gone.
    await bed.repository.complete({
      externalTaskId: id,
      workerId: worker.workerId,
      outcome: { state: 'finished' },
    });
    await bed.clock.tickAsync(4_000);
    expect(signal?.aborted).to.equal(true);
    expect((signal?.reason as TaskAbortedError).cause).to.be.instanceOf(GoneError);
  });
});
