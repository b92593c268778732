import { expect } from 'chai';
import { resolveWorkerOptions } from '../../lib/worker/worker-options.js';
import {
  answeredByHand,
  createTasks,
  deferred,
  delay,
  inFlight,
  settle,
  taskRecords,
  track,
  useWorkerTestbed,
  type OpenFetch,
  type stubService,
} from './worker-fixtures.js';

describe('worker: fetching ahead', () => {
  const bed = useWorkerTestbed();

  it('after a full answer, keeps several fetches in flight when maxTasks is smaller than the room; one long-polls', async () => {
    const { service, fetches } = answeredByHand();
    bed.startWorker({ concurrency: 16, maxTasks: 1, handler: () => new Promise(() => undefined) }, service);
    await bed.clock.tickAsync(0);
    expect(fetches).to.have.length(1); // lean at first: one long poll
    fetches[0]!.answer(taskRecords('a', 1));
    await bed.clock.tickAsync(0);
    // 15 slots free; a fetch once at least 4 (a quarter of 16) are free and not yet asked for.
    const open = inFlight(fetches);
    expect(open).to.have.length(12);
    expect(open.map((fetch) => fetch.options.maxTasks)).to.deep.equal(Array(12).fill(1));
    expect(open.filter((fetch) => fetch.options.longPollingTimeout === 30_000)).to.have.length(1);
    expect(open.filter((fetch) => fetch.options.longPollingTimeout === 0)).to.have.length(11);
  });

  it('raises no MaxListenersExceededWarning with many fetches in flight on its signal', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const { service, fetches } = answeredByHand();
      bed.startWorker({ concurrency: 32, maxTasks: 1, handler: () => new Promise(() => undefined) }, service);
      await bed.clock.tickAsync(0);
      fetches[0]!.answer(taskRecords('a', 1));
      await bed.clock.tickAsync(0);
      expect(inFlight(fetches).length).to.be.above(20);
      // Node emits its warning on the next tick.
      await new Promise((resolve) => process.nextTick(resolve));
      expect(warnings.map((warning) => warning.name)).to.not.include('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('goes back to one long poll at a time once an answer brings fewer tasks than asked', async () => {
    const { service, fetches } = answeredByHand();
    bed.startWorker({ concurrency: 16, maxTasks: 1, handler: () => 'done' }, service);
    await bed.clock.tickAsync(0);
    fetches[0]!.answer(taskRecords('a', 1));
    await bed.clock.tickAsync(0);
    const [longPoll, ...others] = inFlight(fetches);
    expect(longPoll!.options.longPollingTimeout).to.equal(30_000);
    expect(others.length).to.be.above(1);
    for (const fetch of others) fetch.answer([]); // the queue is empty: they answer at once
    await bed.clock.tickAsync(20_000);
    expect(inFlight(fetches)).to.deep.equal([longPoll]);
    longPoll!.answer([]); // as when its time ran out: the next long poll starts at once
    await bed.clock.tickAsync(1);
    expect(inFlight(fetches)).to.have.length(1);
    expect(inFlight(fetches)[0]!.options).to.include({ longPollingTimeout: 30_000, maxTasks: 1 });
  });

  it('fetches again once a quarter of the capacity is free, asking for all of it', async () => {
    const { service, fetches } = answeredByHand();
    const gates = Array.from({ length: 16 }, () => deferred());
    let started = 0;
    bed.startWorker({ concurrency: 16, handler: () => gates[started++]!.promise }, service);
    await bed.clock.tickAsync(0);
    fetches[0]!.answer(taskRecords('a', 16));
    await bed.clock.tickAsync(0);
    expect(fetches).to.have.length(1);
    for (const gate of gates.slice(0, 3)) gate.resolve();
    await bed.clock.tickAsync(0);
    expect(fetches).to.have.length(1);
    gates[3]!.resolve();
    await bed.clock.tickAsync(0);
    expect(fetches).to.have.length(2);
    expect(fetches[1]!.options.maxTasks).to.equal(4);
  });

  /** A worker of concurrency 1 whose first task has ended, its report still on its way. */
  async function reportOnItsWay(): Promise<{
    worker: ReturnType<typeof bed.startWorker>;
    service: ReturnType<typeof stubService>;
    fetches: OpenFetch[];
    report: ReturnType<typeof deferred<void>>;
  }> {
    const { service, fetches } = answeredByHand();
    const report = deferred();
    service.finishExternalTask.returns(report.promise);
    const worker = bed.startWorker({ concurrency: 1, handler: () => 'done' }, service);
    await bed.clock.tickAsync(0);
    fetches[0]!.answer(taskRecords('a', 1));
    await bed.clock.tickAsync(0);
    return { worker, service, fetches, report };
  }

  it('fetches the next tasks while the reports of the last ones are still on their way', async () => {
    const { worker, service, fetches, report } = await reportOnItsWay();
    expect(service.finishExternalTask.callCount).to.equal(1);
    expect(fetches).to.have.length(2); // the report has not answered, and the next fetch is open
    expect(worker.running).to.equal(0);
    const idle = track(worker.onIdle());
    await bed.clock.tickAsync(0);
    expect(idle.settled).to.equal(false); // onIdle waits for the report
    report.resolve();
    await bed.clock.tickAsync(0);
    expect(idle.settled).to.equal(true);
  });

  it('stop() waits for reports still on their way', async () => {
    const { worker, report } = await reportOnItsWay();
    const stopped = track(worker.stop());
    await bed.clock.tickAsync(60_000);
    expect(stopped.settled).to.equal(false);
    report.resolve();
    await bed.clock.tickAsync(0);
    expect(stopped.settled).to.equal(true);
    expect(bed.clock.countTimers()).to.equal(0);
  });

  it('fetches no more while more reports than slots are on their way', async () => {
    const { service, fetches } = answeredByHand();
    const reports = deferred();
    service.finishExternalTask.returns(reports.promise);
    bed.startWorker({ concurrency: 2, handler: () => 'done' }, service);
    await bed.clock.tickAsync(0);
    fetches[0]!.answer(taskRecords('a', 2)); // 2 reports open: the slots are free again
    await bed.clock.tickAsync(0);
    expect(fetches).to.have.length(2);
    fetches[1]!.answer(taskRecords('b', 2)); // 4 reports open: 2 beyond the slots take their room
    await bed.clock.tickAsync(60_000);
    expect(fetches).to.have.length(2);
    expect(service.finishExternalTask.callCount).to.equal(4);
    reports.resolve();
    await bed.clock.tickAsync(0);
    expect(fetches).to.have.length(3);
  });
});

describe('worker: the buffer of fetched tasks', () => {
  const bed = useWorkerTestbed();

  it('holds up to bufferSize tasks beyond the slots and starts them as slots free, without a fetch', async () => {
    const { service, fetches } = answeredByHand();
    const gates = new Map<string, ReturnType<typeof deferred<void>>>();
    const started: string[] = [];
    bed.startWorker(
      {
        concurrency: 2,
        bufferSize: 6,
        maxTasks: 8,
        handler: (task) => {
          started.push(task.id);
          const gate = deferred();
          gates.set(task.id, gate);
          return gate.promise;
        },
      },
      service,
    );
    await bed.clock.tickAsync(0);
    expect(fetches[0]!.options.maxTasks).to.equal(8);
    fetches[0]!.answer(taskRecords('a', 8));
    await bed.clock.tickAsync(0);
    expect(started).to.deep.equal(['a0', 'a1']);
    expect(fetches).to.have.length(1); // slots and buffer are full
    gates.get('a0')!.resolve();
    await bed.clock.tickAsync(0);
    expect(started).to.deep.equal(['a0', 'a1', 'a2']);
    expect(fetches).to.have.length(1); // one place free: less than a quarter of 8
    gates.get('a1')!.resolve();
    await bed.clock.tickAsync(0);
    expect(started).to.deep.equal(['a0', 'a1', 'a2', 'a3']);
    expect(fetches).to.have.length(2);
    expect(fetches[1]!.options.maxTasks).to.equal(2);
  });

  it('stop() waits for the hand-back of expired tasks still on its way', async () => {
    const { service, fetches } = answeredByHand();
    const handedBack = deferred();
    service.unlock.returns(handedBack.promise);
    const worker = bed.startWorker(
      {
        concurrency: 1,
        bufferSize: 1,
        maxTasks: 2,
        lockDuration: 10_000,
        stopGracePeriod: 0,
        handler: () => new Promise(() => undefined),
      },
      service,
    );
    await bed.clock.tickAsync(0);
    fetches[0]!.answer(taskRecords('a', 2));
    await bed.clock.tickAsync(2_500);
    expect(service.unlock.args.map((args) => args[2])).to.deep.equal(['a1']);
    const stopped = track(worker.stop());
    await bed.clock.tickAsync(1_000);
    expect(stopped.settled).to.equal(false);
    handedBack.resolve();
    await bed.clock.tickAsync(0);
    expect(stopped.settled).to.equal(true);
  });

  it('drops a buffered task the engine cancels: it is never run', async () => {
    const started: string[] = [];
    const first = deferred();
    bed.startWorker({
      concurrency: 1,
      bufferSize: 1,
      maxTasks: 2,
      handler: (task) => {
        started.push(task.id);
        return started.length === 1 ? first.promise : 'done';
      },
    });
    const [a, b] = await createTasks(bed.repository, 2);
    await bed.clock.tickAsync(0);
    expect(started).to.deep.equal([a]);
    await bed.repository.cancel({ externalTaskId: b! });
    first.resolve();
    await bed.clock.tickAsync(0);
    expect(started).to.deep.equal([a]);
  });

  it('hands every buffered task back with unlock on stop, runs none of them, and leaves no timer', async () => {
    const { service, fetches } = answeredByHand();
    const started: string[] = [];
    const worker = bed.startWorker(
      {
        concurrency: 2,
        bufferSize: 3,
        maxTasks: 5,
        stopGracePeriod: 1_000,
        handler: (task) => {
          started.push(task.id);
          return delay(500);
        },
      },
      service,
    );
    await bed.clock.tickAsync(0);
    fetches[0]!.answer(taskRecords('a', 5));
    await bed.clock.tickAsync(0);
    const stopped = track(worker.stop());
    await bed.clock.tickAsync(0);
    expect(service.unlock.args.map((args) => args[2])).to.deep.equal(['a2', 'a3', 'a4']);
    await bed.clock.tickAsync(500);
    expect(stopped.settled).to.equal(true);
    expect(started).to.deep.equal(['a0', 'a1']);
    expect(service.finishExternalTask.args.map((args) => args[2])).to.deep.equal(['a0', 'a1']);
    expect(bed.clock.countTimers()).to.equal(0);
  });

  it('hands back what a fetch brought when a worker:fetched listener stopped the worker: runs none, leaves no timer', async () => {
    const { service, fetches } = answeredByHand();
    const started: string[] = [];
    const worker = bed.startWorker(
      { concurrency: 1, bufferSize: 5, maxTasks: 6, handler: (task) => void started.push(task.id) },
      service,
    );
    let stopped: ReturnType<typeof track> | undefined;
    worker.events.once('worker:fetched', () => (stopped = track(worker.stop())));
    await bed.clock.tickAsync(0);
    fetches[0]!.answer(taskRecords('a', 6));
    await bed.clock.tickAsync(0);
    expect(stopped?.settled).to.equal(true);
    expect(started).to.deep.equal([]);
    expect(service.unlock.args.map((args) => args[2])).to.have.members(
      taskRecords('a', 6).map((task) => task.id),
    );
    expect(bed.clock.countTimers()).to.equal(0);
  });

  it('runs a flood of 300 tasks with maxTasks 1 and a buffer: each once, at most concurrency at a time, holding at most concurrency + bufferSize', async () => {
    const fetchAndLock = bed.api.fetchAndLock.bind(bed.api);
    let running = 0;
    let mostAtOnce = 0;
    let fetchedTasks = 0;
    let handlersEnded = 0;
    let asked = 0;
    let mostHeld = 0;
    const handled = new Map<string, number>();
    bed.api.fetchAndLock = async (who, options) => {
      asked += options.maxTasks;
      // Tasks whose handler has not ended (running or buffered), and the tasks asked for.
      mostHeld = Math.max(mostHeld, fetchedTasks - handlersEnded + asked);
      try {
        const tasks = await fetchAndLock(who, options);
        fetchedTasks += tasks.length;
        return tasks;
      } finally {
        asked -= options.maxTasks;
      }
    };
    bed.startWorker({
      concurrency: 4,
      bufferSize: 6,
      maxTasks: 1,
      handler: async (task) => {
        mostAtOnce = Math.max(mostAtOnce, ++running);
        handled.set(task.id, (handled.get(task.id) ?? 0) + 1);
        await delay(10 + (Number(task.correlationId.split('-')[1]) % 5) * 20);
        running--;
        handlersEnded++;
      },
    });
    const created = await createTasks(bed.repository, 300);
    await settle(bed.clock, Promise.all(created.map((id) => bed.api.waitForOutcome(id))), 10);
    expect(handled.size).to.equal(300);
    expect([...handled.values()].every((count) => count === 1)).to.equal(true);
    expect(mostAtOnce).to.equal(4);
    expect(mostHeld).to.be.within(5, 4 + 6); // more than the slots: the buffer was used
  });
});

describe('worker: fetch-ahead options', () => {
  const minimal = { topic: 'send-invoice', handler: () => undefined };

  it('defaults to no buffer, a refill threshold of a quarter, and maxBufferWait half the lock left after an extension', () => {
    expect(resolveWorkerOptions(minimal)).to.deep.include({
      bufferSize: 0,
      refillThreshold: 0.25,
      maxBufferWait: 15_000,
    });
    expect(
      resolveWorkerOptions({ ...minimal, lockDuration: 10_000, extendLockInterval: 9_000 }).maxBufferWait,
    ).to.equal(500);
  });

  for (const [label, options, pattern] of [
    ['a negative bufferSize', { bufferSize: -1 }, /options\.bufferSize .*, got -1/],
    ['a bufferSize above 10,000', { bufferSize: 10_001 }, /options\.bufferSize .*, got 10001/],
    ['a refillThreshold above 1', { refillThreshold: 1.5 }, /options\.refillThreshold .*, got 1\.5/],
    [
      'a maxBufferWait that leaves no time for the first extension',
      { lockDuration: 10_000, maxBufferWait: 5_000 },
      /options\.maxBufferWait .*, got 5000/,
    ],
  ] as const) {
    it(`refuses ${label}, naming the option and the value`, () => {
      expect(() => resolveWorkerOptions({ ...minimal, ...options })).to.throw(RangeError, pattern);
    });
  }
});
