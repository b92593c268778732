import { expect } from 'chai';
import sinon from 'sinon';
import {
  BadRequestError,
  ExternalTaskApi,
  InMemoryExternalTaskRepository,
  type ExternalTask,
  type ExternalTaskRepository,
} from '../../lib/index.js';
import { createTasks, identity, newTask, useApiTestbed } from '../support/fixtures.js';

const minute = 60_000;

/** Follows a promise without awaiting it, so a test can ask whether it has settled yet. */
function track<T>(promise: Promise<T>): { settled: boolean; value: T | undefined } {
  const state: { settled: boolean; value: T | undefined } = { settled: false, value: undefined };
  void promise.then((value) => {
    state.settled = true;
    state.value = value;
  });
  return state;
}

describe('long polling', () => {
  const bed = useApiTestbed();

  const poll = (
    workerId: string,
    timeout = 10 * minute,
    maxTasks = 1,
    topic = 'invoice',
  ): Promise<ExternalTask[]> =>
    bed.api.fetchAndLockExternalTasks(identity, workerId, topic, maxTasks, timeout, minute);

  it('answers at once with what is available, without waiting', async () => {
    await createTasks(bed.repository, 2);
    const tasks = await poll('w1', 10 * minute, 5);
    expect(tasks).to.have.length(2);
    expect(bed.clock.now).to.equal(Date.now());
  });

  it('answers [] at once when longPollingTimeout is 0', async () => {
    const result = track(poll('w1', 0));
    await bed.clock.tickAsync(0);
    expect(result.settled).to.equal(true);
    expect(result.value).to.deep.equal([]);
    expect(bed.clock.countTimers()).to.equal(0);
  });

  it('resolves as soon as a task is created, not at the end of the timeout', async () => {
    const started = bed.clock.now;
    const result = track(poll('w1'));
    await bed.clock.tickAsync(1234);
    expect(result.settled).to.equal(false);
    const { id } = await bed.repository.create(newTask());
    await bed.clock.tickAsync(0);
    expect(result.settled).to.equal(true);
    expect(result.value?.map((task) => task.id)).to.deep.equal([id]);
    expect(result.value?.[0]?.workerId).to.equal('w1');
    expect(bed.clock.now - started).to.equal(1234);
  });

  it('resolves [] when the time runs out, not a moment earlier', async () => {
    const result = track(poll('w1', 5000));
    await bed.clock.tickAsync(4999);
    expect(result.settled).to.equal(false);
    await bed.clock.tickAsync(1);
    expect(result.value).to.deep.equal([]);
  });

  it('wakes one waiter per new task, in arrival order', async () => {
    const first = track(poll('w1'));
    const second = track(poll('w2'));
    const third = track(poll('w3'));
    await bed.clock.tickAsync(0);
    await bed.repository.create(newTask());
    await bed.clock.tickAsync(0);
    expect([first.settled, second.settled, third.settled]).to.deep.equal([true, false, false]);
    await bed.repository.create(newTask());
    await bed.clock.tickAsync(0);
    expect([second.settled, third.settled]).to.deep.equal([true, false]);
    expect(second.value?.[0]?.workerId).to.equal('w2');
  });

  it('hands a burst of tasks to as many waiters as it takes, each up to its maxTasks', async () => {
    const first = track(poll('w1', minute, 3));
    const second = track(poll('w2', minute, 3));
    const third = track(poll('w3', minute, 3));
    await bed.clock.tickAsync(0);
    for (let i = 0; i < 5; i++) void bed.repository.create(newTask());
    await bed.clock.tickAsync(0);
    expect(first.value).to.have.length(3);
    expect(second.value).to.have.length(2);
    expect(third.settled).to.equal(false);
  });

  it('keeps a waiter that got nothing waiting for the rest of its time', async () => {
    const hidden = new InMemoryExternalTaskRepository();
    const picky = new ExternalTaskApi({
      repository: hidden,
      accessPolicy: {
        authorize: () => undefined,
        scope: () => ({ processModelIds: ['seen'] }),
      },
    });
    try {
      const result = track(picky.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 1, 10_000, minute));
      await bed.clock.tickAsync(1000);
      // wakes the waiter, but it may not see the task
      await hidden.create(newTask('invoice', { priority: 5, processModelId: 'hidden' }));
      await bed.clock.tickAsync(1000);
      expect(result.settled).to.equal(false);
      const visible = await hidden.create(newTask('invoice', { processModelId: 'seen' }));
      await bed.clock.tickAsync(0);
      expect(result.value?.map((task) => task.id)).to.deep.equal([visible.id]);
    } finally {
      await picky.close();
    }
  });

  it('wakes when a lock expires, at the moment it expires', async () => {
    const [id] = await createTasks(bed.repository, 1);
    await bed.api.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 1, 0, 5000);
    const result = track(poll('w2'));
    await bed.clock.tickAsync(4999);
    expect(result.settled).to.equal(false);
    await bed.clock.tickAsync(1);
    expect(result.value?.map((task) => [task.id, task.workerId])).to.deep.equal([[id, 'w2']]);
  });

  it('follows an extended lock: wakes at the new expiry, not the old one', async () => {
    const [id] = await createTasks(bed.repository, 1);
    await bed.api.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 1, 0, 5000);
    const result = track(poll('w2'));
    await bed.clock.tickAsync(3000);
    await bed.api.extendLock(identity, 'w1', id!, 5000);
    await bed.clock.tickAsync(4999);
    expect(result.settled).to.equal(false);
    await bed.clock.tickAsync(1);
    expect(result.value?.[0]?.id).to.equal(id);
  });

  it('follows a shortened lock: wakes at the new, earlier expiry', async () => {
    const [id] = await createTasks(bed.repository, 1);
    await bed.api.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 1, 0, 50_000);
    const result = track(poll('w2'));
    await bed.clock.tickAsync(1000);
    await bed.api.extendLock(identity, 'w1', id!, 2000);
    await bed.clock.tickAsync(2000);
    expect(result.value?.[0]?.id).to.equal(id);
  });

  it('does not wake for a lock that ends with an outcome', async () => {
    const [id] = await createTasks(bed.repository, 1);
    await bed.api.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 1, 0, 5000);
    const result = track(poll('w2', 20_000));
    await bed.api.finishExternalTask(identity, 'w1', id!, null);
    await bed.clock.tickAsync(19_999);
    expect(result.settled).to.equal(false);
    await bed.clock.tickAsync(1);
    expect(result.value).to.deep.equal([]);
  });

  it('waits on several topics at once with the options form', async () => {
    const result = track(
      bed.api.fetchAndLock(identity, {
        workerId: 'w1',
        topics: [
          { topicName: 'a', lockDuration: 1000 },
          { topicName: 'b', lockDuration: 9000 },
        ],
        maxTasks: 5,
        longPollingTimeout: minute,
      }),
    );
    await bed.clock.tickAsync(10);
    await bed.repository.create(newTask('c'));
    await bed.clock.tickAsync(0);
    expect(result.settled).to.equal(false);
    await bed.repository.create(newTask('b'));
    await bed.clock.tickAsync(0);
    expect(result.value?.map((task) => [task.topic, task.lockExpirationTime?.getTime()])).to.deep.equal([
      ['b', bed.clock.now + 9000],
    ]);
  });

  it('ends a waiting poll at once with [] when its signal aborts, leaving no timer', async () => {
    const controller = new AbortController();
    const result = track(
      bed.api.fetchAndLock(identity, {
        workerId: 'w1',
        topics: [{ topicName: 'invoice', lockDuration: minute }],
        maxTasks: 1,
        longPollingTimeout: 10 * minute,
        signal: controller.signal,
      }),
    );
    await bed.clock.tickAsync(100);
    controller.abort();
    await bed.clock.tickAsync(0);
    expect(result.value).to.deep.equal([]);
    expect(bed.clock.countTimers()).to.equal(0);
  });

  it('answers [] at once for a signal aborted before the call', async () => {
    const tasks = await bed.api.fetchAndLock(identity, {
      workerId: 'w1',
      topics: [{ topicName: 'invoice', lockDuration: minute }],
      maxTasks: 1,
      longPollingTimeout: minute,
      signal: AbortSignal.abort(),
    });
    expect(tasks).to.deep.equal([]);
    expect(bed.clock.countTimers()).to.equal(0);
  });

  it('leaves no timer behind once a poll is answered, whichever way', async () => {
    await createTasks(bed.repository, 1);
    await bed.api.fetchAndLockExternalTasks(identity, 'w0', 'invoice', 1, 0, 5000); // a lock to wake on
    const woken = track(poll('w1'));
    const timedOut = track(poll('w2', 1000, 1, 'other'));
    const byCreation = track(poll('w3', minute, 1, 'third'));
    await bed.clock.tickAsync(0);
    expect(bed.clock.countTimers()).to.be.greaterThan(0);
    await bed.repository.create(newTask('third'));
    await bed.clock.tickAsync(5000);
    expect([woken.settled, timedOut.settled, byCreation.settled]).to.deep.equal([true, true, true]);
    expect(bed.clock.countTimers()).to.equal(0);
  });

  it('does not poll the store while it waits', async () => {
    const claim = sinon.spy(bed.repository, 'claim');
    const result = track(poll('w1', 30 * minute));
    await bed.clock.tickAsync(30 * minute - 1);
    expect(claim.callCount).to.equal(1);
    await bed.clock.tickAsync(1);
    expect(result.value).to.deep.equal([]);
    expect(claim.callCount).to.equal(1);
  });

  it('does not miss a task created between its first claim and the start of its wait', async () => {
    const racing: ExternalTaskRepository = Object.create(bed.repository) as ExternalTaskRepository;
    racing.claim = async (request) => {
      const tasks = await bed.repository.claim(request);
      await bed.repository.create(newTask()); // lands after the claim looked, before the poll waits
      return tasks;
    };
    const racingApi = new ExternalTaskApi({ repository: racing });
    try {
      const result = track(racingApi.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 1, minute, minute));
      await bed.clock.tickAsync(0);
      expect(result.value).to.have.length(1);
    } finally {
      await racingApi.close();
    }
  });

  it('gives tasks claimed for a waiter whose time ran out mid-claim to that waiter', async () => {
    let releaseClaim: () => void = () => undefined;
    const slow: ExternalTaskRepository = Object.create(bed.repository) as ExternalTaskRepository;
    let calls = 0;
    slow.claim = async (request) => {
      if (++calls === 2) await new Promise<void>((resolve) => (releaseClaim = resolve));
      return bed.repository.claim(request);
    };
    const slowApi = new ExternalTaskApi({ repository: slow });
    try {
      const result = track(slowApi.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 1, 1000, minute));
      await bed.clock.tickAsync(500);
      await bed.repository.create(newTask()); // the wake-up claim now hangs
      await bed.clock.tickAsync(1000); // the poll's time runs out meanwhile
      expect(result.settled).to.equal(false);
      releaseClaim();
      await bed.clock.tickAsync(0);
      expect(result.value).to.have.length(1);
      expect(
        (
          await bed.repository.claim({
            workerId: 'w2',
            topics: [{ topicName: 'invoice', lockDuration: 1 }],
            maxTasks: 1,
          })
        ).length,
      ).to.equal(0);
    } finally {
      await slowApi.close();
    }
  });

  it('answers waiting polls with [] when the api closes, and later polls at once', async () => {
    const result = track(poll('w1'));
    await bed.clock.tickAsync(0);
    await bed.api.close();
    await bed.clock.tickAsync(0);
    expect(result.value).to.deep.equal([]);
    expect(await poll('w2')).to.deep.equal([]);
    expect(bed.clock.countTimers()).to.equal(0);
  });

  it('refuses a longPollingTimeout above 30 minutes, or negative, naming it', async () => {
    for (const timeout of [30 * minute + 1, -1, 1.5]) {
      const error: unknown = await poll('w1', timeout).catch((caught: unknown) => caught);
      expect(error).to.be.instanceOf(BadRequestError);
      expect((error as BadRequestError).argument).to.equal('longPollingTimeout');
    }
    expect(bed.clock.countTimers()).to.equal(0);
  });
});
