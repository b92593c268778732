import { expect } from 'chai';
import type { ExternalTask } from '../../lib/index.js';
import { planRetry, type ResolvedRetryPolicy } from '../../lib/worker/retry-policy.js';
import { ExternalTaskWorker } from '../../lib/worker/index.js';
import {
  newTask,
  recordEvents,
  settle,
  taskRecord,
  testOptions,
  useWorkerTestbed,
} from './worker-fixtures.js';

const policy = (overrides: Partial<ResolvedRetryPolicy> = {}): ResolvedRetryPolicy => ({
  retries: 3,
  initialDelay: 1000,
  factor: 2,
  maxDelay: 5000,
  jitter: 0,
  ...overrides,
});

/** A task record with a retry budget, after `failures` earlier failures (which leave an error on it). */
const task = (retries: number | undefined, failures = 0): ExternalTask => ({
  ...taskRecord('t'),
  ...(retries !== undefined && { retries }),
  ...(failures > 0 && { error: { type: 'service', errorMessage: 'earlier failure' } }),
});

describe('worker: retry policy', () => {
  describe('planRetry', () => {
    it('asks for no retry when neither the task nor the policy grants one (the spec’s plain failure)', () => {
      expect(planRetry(task(undefined), policy({ retries: 0 }), 0)).to.equal(undefined);
    });

    it('grants the policy’s retries after a first failure, and counts down on each failed retry', () => {
      expect(planRetry(task(undefined), policy(), 0)).to.deep.equal({ retries: 3, retryTimeout: 1000 });
      expect(planRetry(task(3, 1), policy(), 0)).to.deep.equal({ retries: 2, retryTimeout: 2000 });
      expect(planRetry(task(2, 2), policy(), 0)).to.deep.equal({ retries: 1, retryTimeout: 4000 });
      expect(planRetry(task(1, 3), policy(), 0)).to.deep.equal({ retries: 0, retryTimeout: 0 });
    });

    it('lets the task’s own budget win, and reports retries 0 (an incident) when it is spent', () => {
      expect(planRetry(task(5), policy({ retries: 0 }), 0)).to.deep.equal({ retries: 5, retryTimeout: 1000 });
      expect(planRetry(task(0, 1), policy(), 0)).to.deep.equal({ retries: 0, retryTimeout: 0 });
      expect(planRetry(task(0), policy({ retries: 0 }), 0)).to.deep.equal({ retries: 0, retryTimeout: 0 });
    });

    it('caps the delay, keeps it fixed with factor 1, and takes jitter off it', () => {
      expect(planRetry(task(2, 5), policy({ retries: 20 }), 0)?.retryTimeout).to.equal(5000);
      expect(planRetry(task(2, 5), policy({ retries: 20, factor: 1 }), 0)?.retryTimeout).to.equal(1000);
      expect(planRetry(task(undefined), policy({ jitter: 0.5 }), 0.999)?.retryTimeout).to.equal(500);
    });
  });

  describe('a worker with retries', () => {
    const bed = useWorkerTestbed();

    it('retries a failing handler `retries` times after the planned delays, then fails it as an incident', async () => {
      const attempts: number[] = [];
      const started = Date.now();
      const worker = bed.createWorker({
        handler: () => {
          attempts.push(Date.now() - started);
          throw new Error('gateway down');
        },
        longPollingTimeout: 60_000,
        retry: { retries: 2, strategy: 'fixed', delay: 5000, jitter: 0 },
      });
      const failures = recordEvents(worker, 'task:failed');
      await worker.start();
      const { id } = await bed.repository.create(newTask());
      const outcome = await settle(bed.clock, bed.api.waitForOutcome(id), 60_000);

      expect(outcome).to.include({ state: 'failed', incident: true, retries: 0 });
      expect(outcome.error).to.include({ type: 'service', errorMessage: 'gateway down' });
      expect(attempts).to.deep.equal([0, 5000, 10_000]);
      expect(failures.map((event) => event.retry)).to.deep.equal([
        { retries: 2, retryTimeout: 5000 },
        { retries: 1, retryTimeout: 5000 },
        { retries: 0, retryTimeout: 0 },
      ]);
    });

    it('without a retry option a failure ends the task at once, as the specification says', async () => {
      const worker = bed.createWorker({
        handler: () => {
          throw new Error('boom');
        },
      });
      await worker.start();
      const { id } = await bed.repository.create(newTask());
      const outcome = await settle(bed.clock, bed.api.waitForOutcome(id));
      expect(outcome.state).to.equal('failed');
      expect(outcome.incident).to.equal(undefined);
    });

    it('refuses bad retry options, naming them', () => {
      const handler = (): null => null;
      expect(
        () => new ExternalTaskWorker(bed.api, testOptions({ handler, retry: { retries: -1 } })),
      ).to.throw(RangeError, /retry\.retries/);
      expect(
        () =>
          new ExternalTaskWorker(bed.api, testOptions({ handler, retry: { strategy: 'linear' as 'fixed' } })),
      ).to.throw(RangeError, /retry\.strategy/);
      expect(() => new ExternalTaskWorker(bed.api, testOptions({ handler, retry: { delay: 1.5 } }))).to.throw(
        TypeError,
        /retry\.delay/,
      );
    });
  });
});
