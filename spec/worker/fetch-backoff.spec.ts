import { expect } from 'chai';
import fc from 'fast-check';
import sinon from 'sinon';
import { InternalError, limits } from '../../lib/index.js';
import { delayAfter } from '../../lib/clock/index.js';
import { Backoff } from '../../lib/worker/backoff.js';
import { resolveWorkerOptions } from '../../lib/worker/worker-options.js';
import type { ExternalTaskWorker, ExternalTaskWorkerOptions } from '../../lib/worker/index.js';
import { emptyLongPoll, startTime, stubService, taskRecord, useWorkerTestbed } from './worker-fixtures.js';

describe('worker: fetch backoff and recovery', () => {
  const bed = useWorkerTestbed({ stack: false });

  const noJitter = { initialDelay: 1_000, factor: 2, maxDelay: 5_000, jitter: 0 };

  function startWorker(
    service: ReturnType<typeof stubService>,
    overrides: Partial<ExternalTaskWorkerOptions> = {},
  ): ExternalTaskWorker {
    return bed.startWorker({ backoff: noJitter, ...overrides }, service);
  }

  it('backs off exponentially, caps the delay, and emits worker:fetchFailed with retryInMs', async () => {
    const service = stubService();
    const fetchedAt: number[] = [];
    service.fetchAndLock.callsFake(() => {
      fetchedAt.push(Date.now() - startTime);
      return Promise.reject(new InternalError('store down'));
    });
    const worker = startWorker(service);
    const retries: number[] = [];
    worker.events.on('worker:fetchFailed', ({ error, retryInMs }) => {
      expect(error).to.be.instanceOf(InternalError);
      retries.push(retryInMs);
    });
    await bed.clock.tickAsync(30_000);
    expect(retries.slice(0, 6)).to.deep.equal([1_000, 2_000, 4_000, 5_000, 5_000, 5_000]);
    expect(fetchedAt.slice(0, 6)).to.deep.equal([0, 1_000, 3_000, 7_000, 12_000, 17_000]);
  });

  it('logs a failed fetch in one line saying what comes next, and its stack at debug level', async () => {
    const service = stubService();
    const failure = new Error('connect ECONNREFUSED 127.0.0.1:8080\nmore lines the line leaves out');
    service.fetchAndLock.onFirstCall().rejects(failure);
    service.fetchAndLock.callsFake(emptyLongPoll);
    const logger = { error: sinon.spy(), warn: sinon.spy(), debug: sinon.spy() };
    const worker = startWorker(service, { logger });
    await bed.clock.tickAsync(0);
    expect(logger.warn.callCount).to.equal(1);
    const [message, details] = logger.warn.firstCall.args as [string, Record<string, unknown>];
    expect(message).to.equal(
      'Fetching external tasks failed: "connect ECONNREFUSED 127.0.0.1:8080". Retrying in 1000 ms.',
    );
    expect(details).to.deep.equal({ workerId: worker.workerId }); // no error: a console would print its stack
    expect(logger.debug.callCount).to.equal(1);
    expect(logger.debug.firstCall.args[1]).to.deep.include({ error: failure });
    expect(logger.error.called).to.equal(false);
  });

  it('resets the delay after a successful fetch', async () => {
    const service = stubService();
    const failing = new Set([0, 1, 2, 4, 5]); // calls that fail, by index
    let call = 0;
    service.fetchAndLock.callsFake((identity, options) => {
      if (failing.has(call++)) return Promise.reject(new Error('network'));
      return call === 4 ? Promise.resolve([]) : emptyLongPoll(identity, options);
    });
    const worker = startWorker(service, { pollInterval: 0 });
    const retries: number[] = [];
    worker.events.on('worker:fetchFailed', ({ retryInMs }) => retries.push(retryInMs));
    const successes = sinon.spy();
    worker.events.on('worker:fetched', successes);
    await bed.clock.tickAsync(20_000);
    expect(retries).to.deep.equal([1_000, 2_000, 4_000, 1_000, 2_000]);
    expect(successes.callCount).to.equal(1);
  });

  it('recovers: processes tasks once fetching works again', async () => {
    const service = stubService();
    service.fetchAndLock.onCall(0).rejects(new Error('down'));
    service.fetchAndLock.onCall(1).rejects(new Error('down'));
    service.fetchAndLock.onCall(2).resolves([taskRecord('a')]);
    const worker = startWorker(service);
    await bed.clock.tickAsync(3_000);
    expect(service.finishExternalTask.calledOnceWith(sinon.match.any, worker.workerId, 'a')).to.equal(true);
    expect(worker.state).to.equal('running');
  });

  it('spreads delays with jitter, never above the undelayed value', async () => {
    const random = sinon.stub(Math, 'random');
    try {
      random.onFirstCall().returns(0.5).onSecondCall().returns(0).onThirdCall().returns(0.999);
      const service = stubService();
      service.fetchAndLock.rejects(new Error('down'));
      const worker = startWorker(service, { backoff: { ...noJitter, jitter: 0.5 } });
      const retries: number[] = [];
      worker.events.on('worker:fetchFailed', ({ retryInMs }) => retries.push(retryInMs));
      await bed.clock.tickAsync(0);
      await bed.clock.tickAsync(750);
      await bed.clock.tickAsync(2_000);
      expect(retries).to.deep.equal([750, 2_000, 2_002]); // 4000 × (1 − 0.5 × 0.999)
    } finally {
      random.restore();
    }
  });

  it('does not report a fetch that fails because the worker is stopping', async () => {
    const service = stubService();
    service.fetchAndLock.callsFake(
      (_identity, { signal }) =>
        new Promise((_resolve, reject) =>
          signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true }),
        ),
    );
    const worker = startWorker(service);
    const errors = sinon.spy();
    worker.events.on('worker:fetchFailed', errors);
    await bed.clock.tickAsync(0);
    await worker.stop();
    expect(errors.called).to.equal(false);
    expect(bed.clock.countTimers()).to.equal(0);
  });

  it('waits pollInterval between fetches that answer [] at once (no long polling)', async () => {
    const service = stubService();
    service.fetchAndLock.resolves([]);
    startWorker(service, { longPollingTimeout: 0, pollInterval: 1_000 });
    await bed.clock.tickAsync(0);
    expect(service.fetchAndLock.callCount).to.equal(1);
    await bed.clock.tickAsync(10_000);
    expect(service.fetchAndLock.callCount).to.equal(11);
  });

  it('fetches again at once after a long poll that used its full time', async () => {
    const service = stubService();
    startWorker(service, { longPollingTimeout: 30_000, pollInterval: 1_000 });
    await bed.clock.tickAsync(30_000);
    // Between rounds that started no task the loop yields to the timer queue: a 0 ms timer, which Node
    // (and the fake clock) runs after 1 ms. That is "at once" next to the 1,000 ms pollInterval.
    await bed.clock.tickAsync(1);
    expect(service.fetchAndLock.callCount).to.equal(2);
  });
});

describe('Backoff', () => {
  const options = { initialDelay: 100, factor: 3, maxDelay: 1_000, jitter: 0 };

  it('grows by factor from initialDelay up to maxDelay, and resets', () => {
    const backoff = new Backoff(options);
    expect([1, 2, 3, 4, 5].map(() => backoff.next())).to.deep.equal([100, 300, 900, 1_000, 1_000]);
    backoff.reset();
    expect(backoff.next()).to.equal(100);
  });

  it('takes at most jitter of each delay off', () => {
    const backoff = new Backoff({ ...options, jitter: 0.2 }, () => 0.999_999);
    expect(backoff.next()).to.equal(80);
    const none = new Backoff({ ...options, jitter: 0.2 }, () => 0);
    expect(none.next()).to.equal(100);
  });

  it('computes a finite whole delay within maxDelay whatever the options and the failures', () => {
    fc.assert(
      fc.property(
        fc.record({
          initialDelay: fc.integer({ min: 0, max: limits.maxDuration }),
          extra: fc.integer({ min: 0, max: limits.maxDuration }),
          factor: fc.double({ min: 1, max: 1e6, noNaN: true }),
          jitter: fc.double({ min: 0, max: 1, noNaN: true }),
        }),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        ({ extra, ...options }, failures, random) => {
          const { backoff } = resolveWorkerOptions({
            topic: 't',
            handler: () => null,
            backoff: { ...options, maxDelay: Math.min(limits.maxDuration, options.initialDelay + extra) },
          });
          const delay = delayAfter(backoff, failures, random);
          expect(Number.isInteger(delay), String(delay)).to.equal(true);
          expect(delay).to.be.within(0, backoff.maxDelay);
        },
      ),
      { examples: [[{ initialDelay: 0, extra: 1000, factor: 2, jitter: 0 }, 5000, 0]] },
    );
  });

  it('stays finite after very many failures, and at 0 with an initial delay of 0', () => {
    const backoff = new Backoff({ ...options, factor: 10 });
    for (let i = 0; i < 10_000; i++) backoff.next();
    expect(backoff.next()).to.equal(1_000);
    const zero = new Backoff({ ...options, initialDelay: 0 });
    for (let i = 0; i < 10_000; i++) zero.next();
    expect(zero.next()).to.equal(0);
  });
});
