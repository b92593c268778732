import { expect } from 'chai';
import fc from 'fast-check';
import { limits, type ExternalTask } from '../../lib/index.js';
import { planRetry, type ResolvedRetryPolicy } from '../../lib/worker/retry-policy.js';
import { ExternalTaskWorker, type RetryPolicyOptions } from '../../lib/worker/index.js';
import { resolveWorkerOptions } from '../../lib/worker/worker-options.js';
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

/**
 * A task record with a retry budget, after `failures` earlier failures (which leave an error on it), in
 * its attempt `failures + 1`.
 */
const task = (retries: number | undefined, failures = 0): ExternalTask => ({
  ...taskRecord('t'),
  attempts: failures + 1,
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

    it('grows the delay with the task’s attempts, whatever budget the engine gave it', () => {
      const attempt = (n: number, retries: number): ExternalTask => ({
        ...task(retries, n - 1),
        attempts: n,
      });
      const engineBudget = policy({ retries: 0, initialDelay: 20, maxDelay: 1000 });

      expect(planRetry(attempt(1, 3), engineBudget, 0)).to.deep.equal({ retries: 3, retryTimeout: 20 });
      expect(planRetry(attempt(2, 3), engineBudget, 0)).to.deep.equal({ retries: 2, retryTimeout: 40 });
      expect(planRetry(attempt(3, 2), engineBudget, 0)).to.deep.equal({ retries: 1, retryTimeout: 80 });
      expect(planRetry(attempt(9, 900), engineBudget, 0)).to.deep.equal({ retries: 899, retryTimeout: 1000 });
    });

    it('computes a finite whole delay within maxDelay whatever the options, budget and attempt', () => {
      const retryOptions: fc.Arbitrary<RetryPolicyOptions> = fc
        .record({
          retries: fc.integer({ min: 0, max: limits.maxRetries }),
          strategy: fc.constantFrom('fixed' as const, 'exponential' as const),
          delay: fc.integer({ min: 0, max: limits.maxDuration }),
          factor: fc.double({ min: 1, max: 1e6, noNaN: true }),
          jitter: fc.double({ min: 0, max: 1, noNaN: true }),
          extra: fc.integer({ min: 0, max: limits.maxDuration }),
        })
        .map(({ extra, ...options }) => ({
          ...options,
          maxDelay: Math.min(limits.maxDuration, options.delay + extra),
        }));
      const failedTask = fc.record({
        retries: fc.option(fc.integer({ min: 0, max: limits.maxRetries }), { nil: undefined }),
        attempts: fc.option(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), { nil: undefined }),
        failedBefore: fc.boolean(),
      });
      fc.assert(
        fc.property(
          retryOptions,
          failedTask,
          fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
          (options, { retries, attempts, failedBefore }, random) => {
            const { retry } = resolveWorkerOptions({ topic: 't', handler: () => null, retry: options });
            const record: ExternalTask = {
              ...task(retries, failedBefore ? 1 : 0),
              ...(attempts !== undefined && { attempts }),
            };
            const planned = planRetry(record, retry, random);
            if (planned === undefined) return;
            expect(Number.isInteger(planned.retryTimeout), String(planned.retryTimeout)).to.equal(true);
            expect(planned.retryTimeout).to.be.within(0, retry.maxDelay);
          },
        ),
        {
          examples: [
            [{ retries: 5000, delay: 0 }, { retries: 3, attempts: undefined, failedBefore: true }, 0],
          ],
        },
      );
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
      const failures = recordEvents(worker, 'worker:task:failed');
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

    it('doubles the delay with each attempt when the engine set the retry budget at creation (20, 40, 80)', async () => {
      const started = Date.now();
      const attempts: { at: number; attempts: number | undefined }[] = [];
      const worker = bed.createWorker({
        handler: (task) => {
          attempts.push({ at: Date.now() - started, attempts: task.attempts });
          throw new Error('gateway down');
        },
        longPollingTimeout: 60_000,
        retry: { delay: 20, jitter: 0 },
      });
      const failures = recordEvents(worker, 'worker:task:failed');
      await worker.start();
      const { id } = await bed.repository.create({ ...newTask(), retries: 3 });
      const outcome = await settle(bed.clock, bed.api.waitForOutcome(id), 10);

      expect(outcome).to.include({ state: 'failed', incident: true, retries: 0 });
      expect(failures.map((event) => event.retry?.retryTimeout)).to.deep.equal([20, 40, 80, 0]);
      expect(attempts).to.deep.equal([
        { at: 0, attempts: 1 },
        { at: 20, attempts: 2 },
        { at: 60, attempts: 3 },
        { at: 140, attempts: 4 },
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
