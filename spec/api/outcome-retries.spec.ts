import { expect } from 'chai';
import { ManualClock, type TimerHandle } from '../../lib/clock/index.js';
import {
  BadRequestError,
  ExternalTaskApi,
  InMemoryExternalTaskRepository,
  type ConsumeOutcomesOptions,
  type ExternalTaskOutcome,
  type Logger,
  type OutcomeFailure,
  type OutcomeHandlingOptions,
} from '../../lib/index.js';
import { someTurns } from '../../lib/testing/contract/waiting.js';
import { newTask, rejectionOf } from '../support/fixtures.js';

const START = Date.UTC(2030, 0, 1);

/** A manual clock that counts the timers set and not yet run or cleared. */
class CountingClock extends ManualClock {
  private readonly live = new Set<TimerHandle>();

  get pendingTimers(): number {
    return this.live.size;
  }

  override setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const handle: TimerHandle = super.setTimeout(() => {
      this.live.delete(handle);
      callback();
    }, delayMs);
    this.live.add(handle);
    return handle;
  }

  override clearTimeout(handle: TimerHandle): void {
    this.live.delete(handle);
    super.clearTimeout(handle);
  }
}

/** A logger that keeps each message with its level. */
function levelLogger(): Logger & { readonly entries: string[] } {
  const entries: string[] = [];
  return {
    entries,
    error: (message) => void entries.push(`error: ${message}`),
    warn: (message) => void entries.push(`warn: ${message}`),
  };
}

/** An in-memory store and an api on one counting clock, with the outcomes of `count` cancelled tasks. */
async function bed(count: number) {
  const clock = new CountingClock(START);
  const repository = new InMemoryExternalTaskRepository({ clock });
  const logger = levelLogger();
  const api = new ExternalTaskApi({ repository, clock, logger });
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const { id } = await repository.create(newTask());
    await repository.cancel({ externalTaskId: id });
    ids.push(id);
  }
  return { clock, repository, logger, api, ids };
}

/** Handling that fails the first `failures` calls of each outcome listed, and records every call and failure. */
function flaky(failures: Readonly<Record<string, number>>) {
  const calls: string[] = [];
  const handled: string[] = [];
  const told: { id: string | undefined; failure: OutcomeFailure }[] = [];
  const left = { ...failures };
  const handling: Pick<OutcomeHandlingOptions, 'onOutcome' | 'onError'> = {
    onOutcome: async ({ task }: ExternalTaskOutcome) => {
      calls.push(task.id);
      await Promise.resolve();
      if ((left[task.id] ?? 0) > 0) {
        left[task.id]!--;
        throw new Error(`the engine failed on ${task.id}`);
      }
      handled.push(task.id);
    },
    onError: (_error, outcome, failure) => void told.push({ id: outcome?.task.id, failure }),
  };
  return { calls, handled, told, handling };
}

describe('ExternalTaskApi.consumeOutcomes: a failing onOutcome is retried with back-off', () => {
  it('hands the same outcome over again after each wait on the api’s clock, telling onError, the later ones waiting', async () => {
    const { clock, api, ids } = await bed(2);
    const [a, b] = ids as [string, string];
    const engine = flaky({ [a]: 3 });
    try {
      await api.consumeOutcomes({
        after: 0,
        ...engine.handling,
        retry: { initialDelay: 100, factor: 3, maxDelay: 500 },
      });
      await someTurns();
      expect(engine.told).to.deep.equal([{ id: a, failure: { attempt: 1, retryIn: 100 } }]);
      await clock.advanceAsync(99);
      expect(engine.calls).to.deep.equal([a]);
      await clock.advanceAsync(1);
      await clock.advanceAsync(300);
      expect(engine.told.map(({ failure }) => failure)).to.deep.equal([
        { attempt: 1, retryIn: 100 },
        { attempt: 2, retryIn: 300 },
        { attempt: 3, retryIn: 500 }, // 900, capped
      ]);
      expect(engine.handled).to.deep.equal([]);
      await clock.advanceAsync(500);
      await someTurns();
      expect(engine.calls).to.deep.equal([a, a, a, a, b]);
      expect(engine.handled).to.deep.equal([a, b]);
      expect(clock.pendingTimers).to.equal(0);
    } finally {
      await api.close();
    }
  });

  it('by default waits 1 s, doubling up to 60 s, and never gives up; a failure without onError is logged as a warning', async () => {
    const { clock, api, ids, logger } = await bed(1);
    const engine = flaky({ [ids[0]!]: 12 });
    const unwatched = flaky({ [ids[0]!]: 12 });
    const waits: number[] = [];
    try {
      await api.consumeOutcomes({
        after: 0,
        onOutcome: engine.handling.onOutcome,
        onError: (error, outcome, failure) => {
          waits.push(failure.retryIn!);
          engine.handling.onError?.(error, outcome, failure);
        },
      });
      await api.consumeOutcomes({ after: 0, onOutcome: unwatched.handling.onOutcome }); // without onError
      for (let i = 0; i < 30 && unwatched.handled.length === 0; i++) await clock.advanceAsync(60_000);
      expect(waits.slice(0, 8)).to.deep.equal([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]);
      expect(engine.told.every(({ failure }) => failure.retryIn !== undefined)).to.equal(true);
      expect([engine.handled, unwatched.handled]).to.deep.equal([ids, ids]);
      expect(logger.entries).to.have.length(12);
      expect(logger.entries.every((entry) => entry.startsWith('warn: onOutcome failed'))).to.equal(true);
    } finally {
      await api.close();
    }
  });

  it('stops after retry.maxAttempts, telling onError (retryIn undefined); the outcome is not skipped', async () => {
    const { clock, api, ids } = await bed(2);
    const [a] = ids as [string, string];
    const engine = flaky({ [a]: 99 });
    try {
      const feed = await api.consumeOutcomes({
        after: 0,
        ...engine.handling,
        retry: { initialDelay: 10, maxAttempts: 3 },
      });
      await clock.advanceAsync(60_000);
      await someTurns();
      expect(engine.told.map(({ failure }) => failure)).to.deep.equal([
        { attempt: 1, retryIn: 10 },
        { attempt: 2, retryIn: 20 },
        { attempt: 3, retryIn: undefined },
      ]);
      expect(engine.calls).to.deep.equal([a, a, a]);
      expect(feed.position, 'its task’s creation, before the outcome that failed').to.equal(1);
      expect(clock.pendingTimers).to.equal(0);
    } finally {
      await api.close();
    }
  });

  it('a stop without onError is logged as an error', async () => {
    const { api, ids, logger } = await bed(1);
    const engine = flaky({ [ids[0]!]: 1 });
    try {
      await api.consumeOutcomes({
        after: 0,
        onOutcome: engine.handling.onOutcome,
        retry: { maxAttempts: 1 },
      });
      await someTurns();
      expect(logger.entries).to.have.length(1);
      expect(logger.entries[0]).to.match(/^error: consumeOutcomes stopped/);
    } finally {
      await api.close();
    }
  });

  it('an onError that throws is logged, and the retries go on', async () => {
    const { clock, api, ids, logger } = await bed(1);
    const engine = flaky({ [ids[0]!]: 2 });
    try {
      await api.consumeOutcomes({
        after: 0,
        onOutcome: engine.handling.onOutcome,
        onError: () => {
          throw new Error('onError is broken too');
        },
        retry: { initialDelay: 5 },
      });
      await clock.advanceAsync(100);
      await someTurns();
      expect(engine.handled).to.deep.equal(ids);
      expect(logger.entries).to.deep.equal([
        'error: onError of consumeOutcomes threw.',
        'error: onError of consumeOutcomes threw.',
      ]);
    } finally {
      await api.close();
    }
  });

  it('close() during a wait resolves at once, calls onOutcome no more and leaves no timer', async () => {
    const { clock, api, ids } = await bed(1);
    const engine = flaky({ [ids[0]!]: 99 });
    const feed = await api.consumeOutcomes({ after: 0, ...engine.handling });
    await someTurns();
    expect(clock.pendingTimers).to.equal(1);
    await feed.close(); // the clock does not move: a close that waited for the back-off would never end
    expect(clock.pendingTimers).to.equal(0);
    await clock.advanceAsync(3_600_000);
    expect(engine.calls).to.deep.equal([ids[0]]);
    await api.close();
  });

  it('a named consumer retries too; after maxAttempts it releases its lease at once, and another replica takes the outcome over', async () => {
    const { clock, repository, api, ids } = await bed(1);
    const other = new ExternalTaskApi({ repository, clock });
    const failing = flaky({ [ids[0]!]: 99 });
    const healthy = flaky({});
    try {
      await api.consumeOutcomes({
        consumer: 'engine',
        ...failing.handling,
        retry: { initialDelay: 10, maxAttempts: 2 },
      });
      const b = await other.consumeOutcomes({
        consumer: 'engine',
        ...healthy.handling,
        leaseDuration: 30_000,
      });
      expect(b.holdsLease).to.equal(false);
      await clock.advanceAsync(10);
      await someTurns();
      expect(failing.told.map(({ failure }) => failure.retryIn)).to.deep.equal([10, undefined]);
      await clock.advanceAsync(10_000); // the other's next ask, long before the lease would run out
      await someTurns();
      expect(b.holdsLease).to.equal(true);
      expect(healthy.handled).to.deep.equal(ids);
    } finally {
      await other.close();
      await api.close();
    }
  });

  it('refuses bad retry options, naming them', async () => {
    const { api } = await bed(0);
    const onOutcome = (): void => undefined;
    const refusals: [string, unknown][] = [
      ['retry', null],
      ['retry', 'fast'],
      ['retry.initialDelay', { initialDelay: -1 }],
      ['retry.initialDelay', { initialDelay: 2 ** 31 }],
      ['retry.maxDelay', { initialDelay: 5000, maxDelay: 4999 }],
      ['retry.factor', { factor: 0.5 }],
      ['retry.factor', { factor: Number.NaN }],
      ['retry.maxAttempts', { maxAttempts: 0 }],
      ['retry.maxAttempts', { maxAttempts: 1.5 }],
    ];
    try {
      for (const [argument, retry] of refusals) {
        for (const form of [{ after: 'now' }, { consumer: 'engine' }]) {
          const options = { ...form, onOutcome, retry } as unknown as ConsumeOutcomesOptions;
          const error = await rejectionOf(api.consumeOutcomes(options));
          expect(error, JSON.stringify({ form, retry })).to.be.instanceOf(BadRequestError);
          expect((error as BadRequestError).argument, JSON.stringify(retry)).to.equal(argument);
        }
      }
    } finally {
      await api.close();
    }
  });
});
