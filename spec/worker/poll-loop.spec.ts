import { expect } from 'chai';
import sinon from 'sinon';
import type { ExternalTaskApi, InMemoryExternalTaskRepository } from '../../lib/index.js';
import { ExternalTaskWorker, type ExternalTaskWorkerOptions } from '../../lib/worker/index.js';
import {
  createStack,
  createTasks,
  identity,
  newTask,
  settle,
  silentLogger,
  stopAll,
  testOptions,
  useFakeTimers,
} from './worker-fixtures.js';

describe('worker: poll loop', () => {
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

  function startWorker(overrides: Partial<ExternalTaskWorkerOptions> = {}): ExternalTaskWorker {
    const worker = new ExternalTaskWorker(api, testOptions(overrides));
    workers.push(worker);
    void worker.start();
    return worker;
  }

  it('fetches with identity, workerId, topics, min(maxTasks, free slots), longPollingTimeout, signal', async () => {
    const fetchAndLock = sinon.spy(api, 'fetchAndLock');
    startWorker({
      workerId: 'w-7',
      concurrency: 4,
      maxTasks: 2,
      lockDuration: 9_000,
      longPollingTimeout: 12_000,
    });
    await clock.tickAsync(0);
    const [who, options] = fetchAndLock.firstCall.args;
    expect(who).to.deep.equal(identity);
    expect(options).to.deep.include({
      workerId: 'w-7',
      topics: [{ topicName: 'send-invoice', lockDuration: 9_000 }],
      maxTasks: 2,
      longPollingTimeout: 12_000,
    });
    expect(options.signal).to.be.instanceOf(AbortSignal);
  });

  it('picks up a task created while it long-polls, at once', async () => {
    const worker = startWorker({ handler: (task) => task.payload });
    const started = sinon.spy();
    worker.events.on('task:started', started);
    await clock.tickAsync(10_000);
    const { id } = await repository.create(newTask('send-invoice', 'hello'));
    await clock.tickAsync(0);
    expect(started.calledOnce).to.equal(true);
    expect((await repository.getById(id))?.result).to.equal('hello');
  });

  it('emits poll:success with the number of tasks fetched, and keeps polling', async () => {
    await createTasks(repository, 3);
    const worker = startWorker({ concurrency: 5, longPollingTimeout: 1_000, pollInterval: 0 });
    const counts: number[] = [];
    worker.events.on('poll:success', ({ count }) => counts.push(count));
    await clock.tickAsync(3_000);
    expect(counts[0]).to.equal(3);
    expect(counts.slice(1).every((count) => count === 0)).to.equal(true);
    expect(counts.length).to.be.at.least(3);
  });

  it('carries on when an event listener throws, and logs it', async () => {
    const logger = silentLogger();
    const worker = startWorker({ logger, handler: () => 'ok' });
    worker.events.on('task:started', () => {
      throw new Error('listener bug');
    });
    // An async listener that rejects, on purpose.
    // eslint-disable-next-line @typescript-eslint/no-misused-promises
    worker.events.on('poll:success', () => Promise.reject(new Error('async listener bug')));
    const { id } = await repository.create(newTask());
    const task = await settle(clock, api.waitForOutcome(id));
    expect(task.result).to.equal('ok');
    expect(logger.error.called).to.equal(true);
    expect(worker.state).to.equal('running');
  });

  it('gives each worker its own workerId by default', () => {
    const a = new ExternalTaskWorker(api, testOptions());
    const b = new ExternalTaskWorker(api, testOptions());
    expect(a.workerId).to.be.a('string').and.not.equal(b.workerId);
    expect(a.workerId).to.include(String(process.pid));
  });
});

describe('worker: with sinon fake timers at their defaults (microtasks faked too)', () => {
  it('still processes tasks and stops cleanly as long as the test ticks the clock', async () => {
    const clock = sinon.useFakeTimers();
    const { repository, api } = createStack();
    const worker = new ExternalTaskWorker(api, testOptions({ handler: () => 'ok' }));
    try {
      await worker.start();
      const ids = await createTasks(repository, 10);
      const tasks = await settle(clock, Promise.all(ids.map((id) => api.waitForOutcome(id))), 100);
      expect(tasks.every((task) => task.result === 'ok')).to.equal(true);
      await settle(clock, worker.stop(), 100);
      expect(clock.countTimers()).to.equal(0);
    } finally {
      api.close();
      await settle(clock, worker.stop(), 100);
      clock.restore();
    }
  });
});
