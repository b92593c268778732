import { expect } from 'chai';
import sinon from 'sinon';
import type {
  ExternalTaskApi,
  FetchAndLockOptions,
  InMemoryExternalTaskRepository,
} from '../../lib/index.js';
import { ExternalTaskWorker, type ExternalTaskWorkerOptions } from '../../lib/worker/index.js';
import {
  createStack,
  createTasks,
  delay,
  deferred,
  newTask,
  settle,
  stopAll,
  testOptions,
  useFakeTimers,
} from './worker-fixtures.js';

describe('worker: concurrency limit', () => {
  let clock: sinon.SinonFakeTimers;
  let repository: InMemoryExternalTaskRepository;
  let api: ExternalTaskApi;
  let workers: ExternalTaskWorker[];

  beforeEach(() => {
    clock = useFakeTimers();
    ({ repository, api } = createStack());
    workers = [];
  });

  afterEach(async () => {
    try {
      api.close();
      await stopAll(clock, workers);
    } finally {
      clock.restore();
    }
  });

  function startWorker(overrides: Partial<ExternalTaskWorkerOptions>): ExternalTaskWorker {
    const worker = new ExternalTaskWorker(api, testOptions(overrides));
    workers.push(worker);
    void worker.start();
    return worker;
  }

  it('runs a flood of 200 tasks at most 5 at a time, each finished exactly once', async () => {
    const fetchAndLock = api.fetchAndLock.bind(api);
    const requested: number[] = [];
    let running = 0;
    let mostAtOnce = 0;
    const handled = new Map<string, number>();
    const worker = startWorker({
      concurrency: 5,
      maxTasks: 50,
      handler: async (task) => {
        running++;
        mostAtOnce = Math.max(mostAtOnce, running);
        handled.set(task.id, (handled.get(task.id) ?? 0) + 1);
        await delay(100 + (Number(task.correlationId.split('-')[1]) % 7) * 50);
        running--;
        return task.id;
      },
    });
    // Slots taken plus slots asked for, at each fetch.
    sinon.stub(api, 'fetchAndLock').callsFake((identity, options: FetchAndLockOptions) => {
      requested.push(worker.running + options.maxTasks);
      return fetchAndLock(identity, options);
    });
    const finished = new Map<string, number>();
    api.events.on('task:finished', ({ task }) => finished.set(task.id, (finished.get(task.id) ?? 0) + 1));

    const ids = await createTasks(repository, 200);
    await settle(clock, Promise.all(ids.map((id) => api.waitForOutcome(id))), 100);

    expect(mostAtOnce).to.equal(5);
    expect(finished.size).to.equal(200);
    expect([...finished.values()].every((count) => count === 1)).to.equal(true);
    expect([...handled.values()].every((count) => count === 1)).to.equal(true);
    expect(Math.max(...requested)).to.be.at.most(5); // never asks for more than the free slots
  });

  it('does not fetch while every slot is taken, and asks for exactly the freed slots', async () => {
    const fetchAndLock = sinon.spy(api, 'fetchAndLock');
    const gates = [deferred(), deferred(), deferred(), deferred(), deferred()];
    let started = 0;
    await createTasks(repository, 5);
    startWorker({ concurrency: 3, handler: () => gates[started++]?.promise });
    await clock.tickAsync(0);
    expect(started).to.equal(3);
    expect(fetchAndLock.callCount).to.equal(1);
    expect(fetchAndLock.firstCall.args[1].maxTasks).to.equal(3);

    await clock.tickAsync(600_000);
    expect(fetchAndLock.callCount).to.equal(1);

    gates[0]!.resolve();
    await clock.tickAsync(0);
    expect(fetchAndLock.callCount).to.equal(2);
    expect(fetchAndLock.secondCall.args[1].maxTasks).to.equal(1);
  });

  it('a slow task does not hold up the next fetch for the other slots', async () => {
    const slow = deferred();
    const worker = startWorker({
      concurrency: 2,
      handler: (task) => ((task.payload as { slow?: boolean }).slow ? slow.promise : 'quick'),
    });
    const slowTask = await repository.create(newTask('send-invoice', { slow: true }));
    await clock.tickAsync(0);
    for (let i = 0; i < 3; i++) {
      const { id } = await repository.create(newTask());
      const done = await settle(clock, api.waitForOutcome(id), 10);
      expect(done.result).to.equal('quick');
    }
    expect(worker.running).to.equal(1);
    expect((await repository.getById(slowTask.id))?.state).to.equal('pending');
    slow.resolve();
    await settle(clock, api.waitForOutcome(slowTask.id));
  });

  it('fetches several topics in one call, each with the lock duration', async () => {
    const fetchAndLock = sinon.spy(api, 'fetchAndLock');
    const seen: string[] = [];
    startWorker({ topic: ['a', 'b'], lockDuration: 7_000, handler: (task) => seen.push(task.topic) });
    await repository.create(newTask('b'));
    await repository.create(newTask('a'));
    await clock.tickAsync(0);
    expect(seen.sort()).to.deep.equal(['a', 'b']);
    expect(fetchAndLock.firstCall.args[1].topics).to.deep.equal([
      { topicName: 'a', lockDuration: 7_000 },
      { topicName: 'b', lockDuration: 7_000 },
    ]);
    expect(fetchAndLock.firstCall.args[1]).to.include({ longPollingTimeout: 30_000 });
  });
});
