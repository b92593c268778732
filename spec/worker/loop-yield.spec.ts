import { expect } from 'chai';
import { InternalError } from '../../lib/index.js';
import { newTask, recordEvents, settle, stubService, useWorkerTestbed } from './worker-fixtures.js';

describe('worker: the loop never starves the event loop', () => {
  const bed = useWorkerTestbed();

  it('yields to timers between failed fetches even with a zero backoff', async () => {
    const service = stubService();
    service.fetchAndLock.rejects(new InternalError('store down'));
    bed.startWorker({ backoff: { initialDelay: 0, maxDelay: 0, jitter: 0 } }, service);
    // Without a yield, this tick would never end: the loop would spin on microtasks.
    await bed.clock.tickAsync(10);
    expect(service.fetchAndLock.callCount).to.be.within(1, 12);
  });

  it('yields to timers between empty answers with pollInterval 0 and no long polling', async () => {
    const service = stubService();
    service.fetchAndLock.resolves([]);
    bed.startWorker({ pollInterval: 0, longPollingTimeout: 0 }, service);
    await bed.clock.tickAsync(10);
    expect(service.fetchAndLock.callCount).to.be.within(1, 12);
  });
});

describe('worker: a transport that throws instead of rejecting', () => {
  const bed = useWorkerTestbed();

  it('survives an extendLock that throws synchronously: the failure is an event, the task still finishes', async () => {
    const throwing = Object.create(bed.api) as typeof bed.api;
    throwing.extendLock = () => {
      throw new Error('transport: socket closed');
    };
    let release: () => void = () => undefined;
    const worker = bed.startWorker(
      {
        lockDuration: 1_000,
        handler: () => new Promise<string>((resolve) => (release = () => resolve('done'))),
      },
      throwing,
    );
    const failures = recordEvents(worker, 'worker:task:extendFailed');
    const { id } = await bed.repository.create(newTask());
    await bed.clock.tickAsync(600);
    expect(failures.map((event) => (event.error as Error).message)).to.deep.equal([
      'transport: socket closed',
    ]);
    release();
    expect((await settle(bed.clock, bed.api.waitForOutcome(id))).result).to.equal('done');
  });
});
