import { expect } from 'chai';
import fc from 'fast-check';
import sinon from 'sinon';
import { InternalError, type ExternalTaskApi, type ExternalTaskService } from '../../lib/index.js';
import { BpmnError, ExternalTaskWorker } from '../../lib/worker/index.js';
import { createStack, createTasks, settle, testOptions, useFakeTimers } from './worker-fixtures.js';

/** Which calls of each kind fail, by their index. */
interface Faults {
  readonly fetch: ReadonlySet<number>;
  readonly report: ReadonlySet<number>;
}

/** How many failures were injected, of each kind. */
interface Injected {
  fetch: number;
  report: number;
}

/** The real API, with injected failures of fetches and reports; counts what it injected. */
function faultyService(api: ExternalTaskApi, faults: Faults): ExternalTaskService & { injected: Injected } {
  const injected = { fetch: 0, report: 0 };
  let fetchCalls = 0;
  let reportCalls = 0;
  const fail = (): Promise<never> => Promise.reject(new InternalError('injected failure'));
  const report =
    <A extends unknown[]>(send: (...args: A) => Promise<void>) =>
    (...args: A): Promise<void> => {
      if (!faults.report.has(reportCalls++)) return send(...args);
      injected.report++;
      return fail();
    };
  const service: ExternalTaskService & { injected: Injected } = {
    injected,
    fetchAndLockExternalTasks: api.fetchAndLockExternalTasks.bind(api),
    fetchAndLock: (...args: Parameters<ExternalTaskApi['fetchAndLock']>) => {
      if (!faults.fetch.has(fetchCalls++)) return api.fetchAndLock(...args);
      injected.fetch++;
      return fail();
    },
    extendLock: api.extendLock.bind(api),
    finishExternalTask: report(api.finishExternalTask.bind(api)),
    handleBpmnError: report(api.handleBpmnError.bind(api)),
    handleServiceError: report(api.handleServiceError.bind(api)),
    unlock: api.unlock.bind(api),
  };
  return service;
}

/**
 * Runs `taskCount` tasks through a worker on a faulty service; answers what happened. The handler
 * returns, throws a BpmnError or throws another error depending on the task.
 */
async function runWithFaults(taskCount: number, faults: Faults) {
  const clock = useFakeTimers();
  const { repository, api } = createStack();
  const service = faultyService(api, faults);
  const worker = new ExternalTaskWorker(
    service,
    testOptions({
      concurrency: 3,
      lockDuration: 10_000,
      backoff: { initialDelay: 100, maxDelay: 2_000, jitter: 0.5 },
      handler: (task) => {
        const n = (task.payload as { n: number }).n;
        if (n % 3 === 1) throw new BpmnError('B');
        if (n % 3 === 2) throw new Error('S');
        return n;
      },
    }),
  );
  const counts = { pollErrors: 0, reportErrors: 0 };
  worker.events.on('worker:fetchFailed', () => counts.pollErrors++);
  worker.events.on('worker:error', ({ context }) => {
    if (context.type === 'report') counts.reportErrors++;
  });
  const unhandled = sinon.spy();
  process.on('unhandledRejection', unhandled);
  try {
    await worker.start();
    const ids = await createTasks(repository, taskCount);
    const outcomes = await settle(
      clock,
      Promise.all(ids.map((id) => api.waitForOutcome(id))),
      500,
      60 * 60_000,
    );
    const state = worker.state;
    await settle(clock, worker.stop());
    return {
      outcomes,
      state,
      counts,
      injected: service.injected,
      unhandled: unhandled.callCount,
      timers: clock.countTimers(),
    };
  } finally {
    process.off('unhandledRejection', unhandled);
    await api.close();
    await worker.stop();
    clock.restore();
  }
}

describe('worker: fault tolerance', () => {
  it('keeps processing after 10 failed fetches in a row and a failed report of every task', async () => {
    const fetch = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const report = new Set(Array.from({ length: 6 }, (_, i) => i));
    const result = await runWithFaults(6, { fetch, report });
    expect(result.outcomes.map((task) => task.state).sort()).to.deep.equal([
      'failed',
      'failed',
      'failed',
      'failed',
      'finished',
      'finished',
    ]);
    expect(result.state).to.equal('running');
    expect(result.counts).to.deep.equal({ pollErrors: 10, reportErrors: 6 });
    expect(result.unhandled).to.equal(0);
    expect(result.timers).to.equal(0);
  });

  it('whatever fetches and reports fail, every task reaches an outcome and the loop lives on', async () => {
    const faultSet = fc
      .uniqueArray(fc.nat({ max: 40 }), { maxLength: 25 })
      .map((indexes) => new Set(indexes));
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 12 }),
        faultSet,
        faultSet,
        async (taskCount, fetch, report) => {
          const result = await runWithFaults(taskCount, { fetch, report });
          expect(result.outcomes).to.have.length(taskCount);
          expect(result.outcomes.every((task) => task.state !== 'pending')).to.equal(true);
          expect(result.state).to.equal('running');
          expect(result.counts.pollErrors).to.equal(result.injected.fetch);
          expect(result.counts.reportErrors).to.equal(result.injected.report);
          expect(result.unhandled).to.equal(0);
          expect(result.timers).to.equal(0);
        },
      ),
      { numRuns: 40 },
    );
  });
});
