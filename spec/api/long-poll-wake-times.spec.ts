import { expect } from 'chai';
import sinon from 'sinon';
import {
  ExternalTaskApi,
  InMemoryExternalTaskRepository,
  systemClock,
  type Clock,
  type ExternalTask,
} from '../../lib/index.js';
import { ManualClock } from '../../lib/testing/index.js';
import { identity, newTask, startTime, useFakeTime } from '../support/fixtures.js';

const second = 1000;

describe('long polling: wake times', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => (clock = useFakeTime()));
  afterEach(() => clock.restore());

  for (const scoped of [false, true]) {
    it(`a waiter behind one that took a task still wakes at the next expiry${scoped ? ' (tenant scope)' : ''}`, async () => {
      const repository = new InMemoryExternalTaskRepository();
      const api = new ExternalTaskApi({
        repository,
        accessPolicy: {
          authorize: () => undefined,
          scope: (caller) => (caller?.token === 'small' && scoped ? { tenantIds: ['a'] } : undefined),
        },
      });
      try {
        const [first, next] = await repository.createMany([
          newTask('invoice', { tenantId: 'a' }),
          newTask('invoice', { tenantId: 'a' }),
        ]);
        await api.fetchAndLock(identity, {
          workerId: 'w0',
          topics: [{ topicName: 'invoice', lockDuration: 5 * second }],
          maxTasks: 1,
        });
        await api.fetchAndLock(identity, {
          workerId: 'w0',
          topics: [{ topicName: 'invoice', lockDuration: 30 * second }],
          maxTasks: 1,
        });
        const answers = new Map<string, ExternalTask[]>();
        for (const token of ['big', 'small']) {
          void api
            .fetchAndLockExternalTasks(
              { token },
              token,
              'invoice',
              token === 'big' ? 5 : 1,
              120 * second,
              60 * second,
            )
            .then((tasks) => answers.set(token, tasks));
        }
        await clock.tickAsync(5 * second);
        expect(answers.get('big')?.map((t) => t.id)).to.deep.equal([first?.id]);
        await clock.tickAsync(25 * second - 1);
        expect(answers.has('small')).to.equal(false);
        await clock.tickAsync(1);
        expect(answers.get('small')?.map((t) => t.id)).to.deep.equal([next?.id]);
      } finally {
        await api.close();
      }
    });
  }

  it('wakes on time when the process clock steps back while it waits', async () => {
    // The store keeps its own steady time; the process's clock jumps back 30 s after the poll started.
    const storeClock = new ManualClock(startTime);
    const repository = new InMemoryExternalTaskRepository({ clock: storeClock });
    let offset = 0;
    const processClock: Clock = { ...systemClock, now: () => Date.now() + offset };
    const api = new ExternalTaskApi({ repository, clock: processClock });
    try {
      const { id } = await repository.create(newTask());
      await api.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 1, 0, 10 * second);
      let answer: ExternalTask[] | undefined;
      void api
        .fetchAndLockExternalTasks(identity, 'w2', 'invoice', 1, 60 * second, 60 * second)
        .then((tasks) => (answer = tasks));
      await clock.tickAsync(1);
      offset = -30 * second;
      storeClock.advance(10 * second);
      // The lock was taken at fake time 0; its expiry is due at 10 s.
      await clock.tickAsync(10 * second - 2);
      expect(answer).to.equal(undefined);
      await clock.tickAsync(1);
      expect(answer?.map((t) => t.id)).to.deep.equal([id]);
    } finally {
      await api.close();
    }
  });

  it('a claim that fails for one waiter does not leave the next waiting', async () => {
    const repository = new InMemoryExternalTaskRepository();
    const claim = sinon.stub(repository, 'claim').callThrough();
    const logger = { error: sinon.stub(), warn: sinon.stub() };
    const api = new ExternalTaskApi({ repository, logger });
    try {
      const results: { first?: unknown; second?: ExternalTask[] } = {};
      api.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 1, 60 * second, 60 * second).then(
        () => undefined,
        (error: unknown) => (results.first = error),
      );
      void api
        .fetchAndLockExternalTasks(identity, 'w2', 'invoice', 1, 60 * second, 60 * second)
        .then((tasks) => (results.second = tasks));
      await clock.tickAsync(1);
      claim.onCall(claim.callCount).rejects(new Error('connection reset'));
      const { id } = await repository.create(newTask());
      await clock.tickAsync(0);
      expect(results.first).to.be.instanceOf(Error);
      expect(results.second?.map((t) => t.id)).to.deep.equal([id]);
    } finally {
      await api.close();
    }
  });
});
