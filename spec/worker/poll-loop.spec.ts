import { expect } from 'chai';
import sinon from 'sinon';
import { ExternalTaskWorker, type WorkerState } from '../../lib/worker/index.js';
import {
  createStack,
  createTasks,
  identity,
  newTask,
  settle,
  silentLogger,
  testOptions,
  useWorkerTestbed,
} from './worker-fixtures.js';

describe('worker: poll loop', () => {
  const bed = useWorkerTestbed();

  it('fetches with identity, workerId, topics, min(maxTasks, free slots), longPollingTimeout, signal', async () => {
    const fetchAndLock = sinon.spy(bed.api, 'fetchAndLock');
    bed.startWorker({
      workerId: 'w-7',
      concurrency: 4,
      maxTasks: 2,
      lockDuration: 9_000,
      longPollingTimeout: 12_000,
    });
    await bed.clock.tickAsync(0);
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
    const worker = bed.startWorker({ handler: (task) => task.payload });
    const started = sinon.spy();
    worker.events.on('worker:task:started', started);
    await bed.clock.tickAsync(10_000);
    const { id } = await bed.repository.create(newTask('send-invoice', 'hello'));
    await bed.clock.tickAsync(0);
    expect(started.calledOnce).to.equal(true);
    expect((await bed.repository.getById(id))?.result).to.equal('hello');
  });

  it('emits worker:fetched with the number of tasks fetched, and keeps polling', async () => {
    await createTasks(bed.repository, 3);
    const worker = bed.startWorker({ concurrency: 5, longPollingTimeout: 1_000, pollInterval: 0 });
    const counts: number[] = [];
    worker.events.on('worker:fetched', ({ count }) => counts.push(count));
    await bed.clock.tickAsync(3_000);
    expect(counts[0]).to.equal(3);
    expect(counts.slice(1).every((count) => count === 0)).to.equal(true);
    expect(counts.length).to.be.at.least(3);
  });

  it('carries on when an event listener throws, and logs it', async () => {
    const logger = silentLogger();
    const worker = bed.startWorker({ logger, handler: () => 'ok' });
    worker.events.on('worker:task:started', () => {
      throw new Error('listener bug');
    });
    // An async listener that rejects, on purpose.
    // eslint-disable-next-line @typescript-eslint/no-misused-promises
    worker.events.on('worker:fetched', () => Promise.reject(new Error('async listener bug')));
    const { id } = await bed.repository.create(newTask());
    const task = await settle(bed.clock, bed.api.waitForOutcome(id));
    expect(task.result).to.equal('ok');
    expect(logger.error.called).to.equal(true);
    expect(worker.state).to.equal('running');
  });

  it('is running once start() returns, and has only states a caller can observe', async () => {
    // Compiles only while WorkerState is exactly these states: no state exists that nobody can see.
    const documented: Record<WorkerState, true> = {
      idle: true,
      running: true,
      stopping: true,
      stopped: true,
    };
    const worker = bed.createWorker();
    const seen: WorkerState[] = [worker.state];
    const starting = worker.start();
    seen.push(worker.state);
    await starting;
    const stopping = worker.stop();
    seen.push(worker.state);
    await settle(bed.clock, stopping);
    seen.push(worker.state);
    expect(seen).to.deep.equal(Object.keys(documented));
  });

  it('gives each worker its own workerId by default', () => {
    const a = new ExternalTaskWorker(bed.api, testOptions());
    const b = new ExternalTaskWorker(bed.api, testOptions());
    expect(a.workerId).to.be.a('string').and.not.equal(b.workerId);
    expect(a.workerId).to.include(String(process.pid));
  });
});

describe('worker: with sinon fake timers at their defaults (queueMicrotask and nextTick faked too)', () => {
  it('processes tasks, more than it has slots for, and stops cleanly without a tick', async () => {
    const clock = sinon.useFakeTimers();
    const { repository, api } = createStack();
    const worker = new ExternalTaskWorker(api, testOptions({ handler: () => 'ok', concurrency: 3 }));
    try {
      await worker.start();
      const ids = await createTasks(repository, 10);
      const tasks = await Promise.all(ids.map((id) => api.waitForOutcome(id)));
      expect(tasks.every((task) => task.result === 'ok')).to.equal(true);
      await worker.onIdle();
      await worker.stop();
      expect(clock.now).to.equal(0);
      expect(clock.countTimers()).to.equal(0);
    } finally {
      await api.close();
      await settle(clock, worker.stop(), 100);
      clock.restore();
    }
  });
});
