import { expect } from 'chai';
import { ExternalTaskApi, InMemoryExternalTaskRepository, type ExternalTask } from '../../lib/index.js';
import { ManualClock } from '../../lib/testing/index.js';
import { identity, newTask, rejectionOf, startTime } from '../support/fixtures.js';

/** Awaits `turns` promise jobs, as code between a timer and its next timer does (a store call, a reply). */
async function promiseJobs(turns: number): Promise<void> {
  for (let turn = 0; turn < turns; turn++) await Promise.resolve();
}

/**
 * A timer due in 10 ms whose callback, after a few promise jobs, sets a second one 10 ms later; answers
 * the times (since {@link startTime}) at which they ran.
 */
function chainedTimers(clock: ManualClock): number[] {
  const ran: number[] = [];
  clock.setTimeout(() => {
    ran.push(clock.now() - startTime);
    void promiseJobs(5).then(() => clock.setTimeout(() => ran.push(clock.now() - startTime), 10));
  }, 10);
  return ran;
}

describe('ManualClock', () => {
  it('advanceAsync runs a timer that promise jobs set after an earlier timer, in the same advance', async () => {
    const clock = new ManualClock(startTime);
    const ran = chainedTimers(clock);
    await clock.advanceAsync(30);
    expect(ran).to.deep.equal([10, 20]);
    expect(clock.now()).to.equal(startTime + 30);
  });

  it('advance, by contrast, returns before the promise jobs of its timers set their next timer', () => {
    const clock = new ManualClock(startTime);
    const ran = chainedTimers(clock);
    clock.advance(30);
    expect(ran).to.deep.equal([10]);
  });

  it('advanceAsync lets a long poll on a store on this clock answer when a lock runs out', async () => {
    const clock = new ManualClock(startTime);
    const repository = new InMemoryExternalTaskRepository({ clock });
    const api = new ExternalTaskApi({ repository, clock });
    try {
      await repository.create(newTask());
      await api.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 1, 0, 1000);
      let answer: ExternalTask[] | undefined;
      void api
        .fetchAndLockExternalTasks(identity, 'w2', 'invoice', 1, 60_000, 1000)
        .then((t) => (answer = t));
      await clock.advanceAsync(999);
      expect(answer).to.equal(undefined);
      await clock.advanceAsync(1);
      expect(answer?.map((task) => task.workerId)).to.deep.equal(['w2']);
    } finally {
      await api.close();
    }
  });

  it('refuses to move back or by a non-number', async () => {
    const clock = new ManualClock(startTime);
    expect(await rejectionOf(clock.advanceAsync(-1))).to.be.instanceOf(RangeError);
    expect(await rejectionOf(clock.advanceAsync(Number.NaN))).to.be.instanceOf(RangeError);
    expect(clock.now()).to.equal(startTime);
  });
});
