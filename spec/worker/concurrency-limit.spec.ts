import { expect } from 'chai';
import sinon from 'sinon';
import type { FetchAndLockOptions } from '../../lib/index.js';
import {
  createTasks,
  delay,
  deferred,
  newTask,
  settle,
  stubService,
  taskRecord,
  useWorkerTestbed,
} from './worker-fixtures.js';

describe('worker: concurrency limit', () => {
  const bed = useWorkerTestbed();

  it('runs a flood of 200 tasks at most 5 at a time, each finished exactly once', async () => {
    const fetchAndLock = bed.api.fetchAndLock.bind(bed.api);
    const requested: number[] = [];
    let running = 0;
    let mostAtOnce = 0;
    const handled = new Map<string, number>();
    const worker = bed.startWorker({
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
    sinon.stub(bed.api, 'fetchAndLock').callsFake((identity, options: FetchAndLockOptions) => {
      requested.push(worker.running + options.maxTasks);
      return fetchAndLock(identity, options);
    });
    const finished = new Map<string, number>();
    bed.api.events.on('task:finished', ({ task }) => finished.set(task.id, (finished.get(task.id) ?? 0) + 1));

    const ids = await createTasks(bed.repository, 200);
    await settle(bed.clock, Promise.all(ids.map((id) => bed.api.waitForOutcome(id))), 100);

    expect(mostAtOnce).to.equal(5);
    expect(finished.size).to.equal(200);
    expect([...finished.values()].every((count) => count === 1)).to.equal(true);
    expect([...handled.values()].every((count) => count === 1)).to.equal(true);
    expect(Math.max(...requested)).to.be.at.most(5); // never asks for more than the free slots
  });

  it('does not fetch while every slot is taken, and asks for exactly the freed slots', async () => {
    const fetchAndLock = sinon.spy(bed.api, 'fetchAndLock');
    const gates = [deferred(), deferred(), deferred(), deferred(), deferred()];
    let started = 0;
    await createTasks(bed.repository, 5);
    bed.startWorker({ concurrency: 3, handler: () => gates[started++]?.promise });
    await bed.clock.tickAsync(0);
    expect(started).to.equal(3);
    expect(fetchAndLock.callCount).to.equal(1);
    expect(fetchAndLock.firstCall.args[1].maxTasks).to.equal(3);

    await bed.clock.tickAsync(600_000);
    expect(fetchAndLock.callCount).to.equal(1);

    gates[0]!.resolve();
    await bed.clock.tickAsync(0);
    expect(fetchAndLock.callCount).to.equal(2);
    expect(fetchAndLock.secondCall.args[1].maxTasks).to.equal(1);
  });

  it('a slow task does not hold up the next fetch for the other slots', async () => {
    const slow = deferred();
    const worker = bed.startWorker({
      concurrency: 2,
      handler: (task) => ((task.payload as { slow?: boolean }).slow ? slow.promise : 'quick'),
    });
    const slowTask = await bed.repository.create(newTask('send-invoice', { slow: true }));
    await bed.clock.tickAsync(0);
    for (let i = 0; i < 3; i++) {
      const { id } = await bed.repository.create(newTask());
      const done = await settle(bed.clock, bed.api.waitForOutcome(id), 10);
      expect(done.result).to.equal('quick');
    }
    expect(worker.running).to.equal(1);
    expect((await bed.repository.getById(slowTask.id))?.state).to.equal('pending');
    slow.resolve();
    await settle(bed.clock, bed.api.waitForOutcome(slowTask.id));
  });

  it('runs at most concurrency handlers even when a service answers more tasks than asked, in order', async () => {
    const service = stubService();
    service.fetchAndLock.onFirstCall().resolves(['a', 'b', 'c', 'd'].map((id) => taskRecord(id)));
    const started: string[] = [];
    let running = 0;
    let mostAtOnce = 0;
    bed.startWorker(
      {
        concurrency: 2,
        handler: async (task) => {
          started.push(task.id);
          mostAtOnce = Math.max(mostAtOnce, ++running);
          await delay(100);
          running--;
          return task.id;
        },
      },
      service,
    );
    await bed.clock.tickAsync(0);
    expect(started).to.deep.equal(['a', 'b']);
    await bed.clock.tickAsync(100);
    expect(started).to.deep.equal(['a', 'b', 'c', 'd']);
    await bed.clock.tickAsync(100);
    expect(service.finishExternalTask.callCount).to.equal(4);
    expect(mostAtOnce).to.equal(2);
  });

  it('fetches several topics in one call, each with the lock duration', async () => {
    const fetchAndLock = sinon.spy(bed.api, 'fetchAndLock');
    const seen: string[] = [];
    bed.startWorker({ topic: ['a', 'b'], lockDuration: 7_000, handler: (task) => seen.push(task.topic) });
    await bed.repository.create(newTask('b'));
    await bed.repository.create(newTask('a'));
    await bed.clock.tickAsync(0);
    expect(seen.sort()).to.deep.equal(['a', 'b']);
    expect(fetchAndLock.firstCall.args[1].topics).to.deep.equal([
      { topicName: 'a', lockDuration: 7_000 },
      { topicName: 'b', lockDuration: 7_000 },
    ]);
    expect(fetchAndLock.firstCall.args[1]).to.include({ longPollingTimeout: 30_000 });
  });
});
