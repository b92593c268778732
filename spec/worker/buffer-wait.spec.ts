import { expect } from 'chai';
import {
  answeredByHand,
  deferred,
  delay,
  identity,
  startTime,
  taskRecords,
  useWorkerTestbed,
} from './worker-fixtures.js';

describe('worker: how long a task waits in the buffer', () => {
  const bed = useWorkerTestbed();

  /** The ids of the tasks handed back with `unlock` so far. */
  const handedBack = (service: ReturnType<typeof answeredByHand>['service']): unknown[] =>
    service.unlock.args.map((args) => args[2]);

  /**
   * A worker of one slot and `bufferSize` places, fetching up to both, on a service answered by hand; the
   * handler of `firstId` runs until `first` resolves, every other one for ever. `lockDuration` is 10,000
   * ms, so `maxBufferWait` is (10,000 − 5,000) / 2 = 2,500.
   */
  function oneSlotFor(firstId: string, bufferSize: number) {
    const { service, fetches } = answeredByHand();
    const started: string[] = [];
    const first = deferred();
    const worker = bed.startWorker(
      {
        concurrency: 1,
        bufferSize,
        maxTasks: bufferSize + 1,
        lockDuration: 10_000,
        handler: (task) => {
          started.push(task.id);
          return task.id === firstId ? first.promise : new Promise(() => undefined);
        },
      },
      service,
    );
    return { worker, service, fetches, started, first };
  }

  it('never holds a task longer than maxBufferWait: then it is handed back with unlock, not run, and not refetched until a slot is free', async () => {
    const { worker, service, fetches, started, first } = oneSlotFor('a0', 3);
    await bed.clock.tickAsync(1_000);
    fetches[0]!.answer(taskRecords('a', 4)); // the buffered tasks arrive at 1,000: due at 3,500
    await bed.clock.tickAsync(2_499);
    expect(service.unlock.called).to.equal(false);
    await bed.clock.tickAsync(1);
    expect(service.unlock.args).to.deep.equal(
      ['a1', 'a2', 'a3'].map((id) => [identity, worker.workerId, id]),
    );
    expect(started).to.deep.equal(['a0']);
    await bed.clock.tickAsync(60_000);
    expect(fetches).to.have.length(1); // tasks expired: the buffer is not refilled while no slot draws on it
    first.resolve();
    await bed.clock.tickAsync(0);
    expect(fetches).to.have.length(2); // a slot drew on the buffer again: slot and buffer are fetched for
    expect(fetches[1]!.options.maxTasks).to.equal(4);
  });

  it('measures the wait of each task from when its own fetch answered', async () => {
    const { service, fetches } = answeredByHand();
    const gate = deferred();
    bed.startWorker(
      {
        concurrency: 1,
        bufferSize: 4,
        maxTasks: 2,
        maxBufferWait: 1_000,
        refillThreshold: 0,
        handler: (task) => (task.id === 'a0' ? gate.promise : new Promise(() => undefined)),
      },
      service,
    );
    await bed.clock.tickAsync(0);
    fetches[0]!.answer(taskRecords('a', 2)); // a1 arrives at 0: due at 1,000
    await bed.clock.tickAsync(0);
    expect(fetches).to.have.length(2);
    await bed.clock.tickAsync(600);
    fetches[1]!.answer(taskRecords('b', 2)); // sent at 0, arrives at 600: due at 1,600
    await bed.clock.tickAsync(0);
    expect(fetches).to.have.length(3);
    await bed.clock.tickAsync(300);
    fetches[2]!.answer(taskRecords('c', 1)); // sent at 600, arrives at 900: due at 1,900
    await bed.clock.tickAsync(100);
    expect(handedBack(service)).to.deep.equal(['a1']);
    await bed.clock.tickAsync(599);
    expect(handedBack(service)).to.deep.equal(['a1']);
    await bed.clock.tickAsync(1);
    expect(handedBack(service)).to.deep.equal(['a1', 'b0', 'b1']);
    await bed.clock.tickAsync(299);
    expect(handedBack(service)).to.deep.equal(['a1', 'b0', 'b1']);
    await bed.clock.tickAsync(1);
    expect(handedBack(service)).to.deep.equal(['a1', 'b0', 'b1', 'c0']);
  });

  it('counts the wait from when a long poll answered: one that waited longer than maxBufferWait fills the buffer', async () => {
    const { service, fetches, started, first } = oneSlotFor('a0', 2);
    await bed.clock.tickAsync(0);
    fetches[0]!.answer(taskRecords('a', 1)); // the slot is taken; the next long poll is for the buffer only
    await bed.clock.tickAsync(0);
    expect(fetches).to.have.length(2);
    expect(fetches[1]!.options).to.include({ maxTasks: 2, longPollingTimeout: 30_000 });
    await bed.clock.tickAsync(4_000);
    fetches[1]!.answer(taskRecords('b', 2)); // claimed now, after 4,000 ms of long poll
    await bed.clock.tickAsync(2_499);
    expect(handedBack(service)).to.deep.equal([]);
    first.resolve();
    await bed.clock.tickAsync(0);
    expect(started).to.deep.equal(['a0', 'b0']);
    await bed.clock.tickAsync(1);
    expect(handedBack(service)).to.deep.equal(['b1']); // 2,500 ms after it arrived
  });

  it('hands back a task that waited past maxBufferWait instead of starting it, even when a slot frees before the timer ran', async () => {
    const { service, fetches, started, first } = oneSlotFor('a0', 2);
    await bed.clock.tickAsync(0);
    fetches[0]!.answer(taskRecords('a', 3));
    await bed.clock.tickAsync(1_000);
    // As a busy event loop does: 3,000 ms pass, and the hand-back's timer has not run yet (sinon moves
    // the timers with the clock, so it is due 1,500 ms from now).
    bed.clock.setSystemTime(startTime + 4_000);
    first.resolve();
    await bed.clock.tickAsync(0);
    expect(started).to.deep.equal(['a0']);
    expect(handedBack(service)).to.deep.equal(['a1', 'a2']);
  });

  it('hands each buffered task back maxBufferWait after it arrived, in the order they arrived, whichever fetch asked first', async () => {
    const { service, fetches } = answeredByHand();
    const started: string[] = [];
    bed.startWorker(
      {
        concurrency: 2,
        bufferSize: 4,
        maxTasks: 4,
        maxBufferWait: 1_000,
        refillThreshold: 0,
        handler: (task) => {
          started.push(task.id);
          return task.id === 'a0' ? delay(100) : new Promise(() => undefined);
        },
      },
      service,
    );
    await bed.clock.tickAsync(0);
    fetches[0]!.answer(taskRecords('a', 4)); // a0, a1 run; a2, a3 wait
    await bed.clock.tickAsync(0);
    expect(fetches[1]!.options.maxTasks).to.equal(2); // asked at 0 for the two free places
    await bed.clock.tickAsync(100); // a0 ends: a2 takes its slot, and the place it freed is fetched for
    expect(started).to.deep.equal(['a0', 'a1', 'a2']);
    expect(fetches[2]!.options.maxTasks).to.equal(1);
    await bed.clock.tickAsync(100);
    fetches[2]!.answer(taskRecords('c', 1)); // asked at 100, arrives at 200
    await bed.clock.tickAsync(100);
    fetches[1]!.answer(taskRecords('b', 2)); // asked at 0, arrives at 300
    await bed.clock.tickAsync(699);
    expect(handedBack(service)).to.deep.equal([]);
    await bed.clock.tickAsync(1);
    expect(handedBack(service)).to.deep.equal(['a3']); // arrived at 0
    await bed.clock.tickAsync(199);
    expect(handedBack(service)).to.deep.equal(['a3']);
    await bed.clock.tickAsync(1);
    expect(handedBack(service)).to.deep.equal(['a3', 'c0']); // arrived at 200
    await bed.clock.tickAsync(99);
    expect(handedBack(service)).to.deep.equal(['a3', 'c0']);
    await bed.clock.tickAsync(1);
    expect(handedBack(service)).to.deep.equal(['a3', 'c0', 'b0', 'b1']); // arrived at 300
  });

  it('extends the lock of a buffered task extendLockInterval after it arrived, not after its handler started', async () => {
    const { service, fetches } = answeredByHand();
    bed.startWorker(
      {
        concurrency: 1,
        bufferSize: 1,
        maxTasks: 2,
        lockDuration: 10_000, // extendLockInterval 5,000, maxBufferWait 2,500
        handler: (task) => (task.id === 'a0' ? delay(2_000) : new Promise(() => undefined)),
      },
      service,
    );
    await bed.clock.tickAsync(0);
    fetches[0]!.answer(taskRecords('a', 2)); // both locked now; a1 waits 2,000 ms for the slot
    const extensionsOf = (id: string): unknown[] =>
      service.extendLock.args.filter((args) => args[2] === id).map((args) => args.slice(1));
    await bed.clock.tickAsync(4_999);
    expect(extensionsOf('a1')).to.deep.equal([]);
    await bed.clock.tickAsync(1);
    expect(extensionsOf('a1')).to.deep.equal([[bed.workers[0]!.workerId, 'a1', 10_000]]);
    await bed.clock.tickAsync(5_000);
    expect(extensionsOf('a1')).to.have.length(2); // then every extendLockInterval, as for any task
    expect(service.extendLock.calledWith(identity)).to.equal(true);
  });
});
