import { expect } from 'chai';
import fc from 'fast-check';
import sinon from 'sinon';
import {
  ExternalTaskApi,
  InMemoryExternalTaskRepository,
  LockedError,
  type ExternalTask,
  type ExternalTaskRepository,
} from '../../lib/index.js';
import { createTasks, identity, newTask, useFakeTime } from '../support/fixtures.js';

/** One lock as handed out: who, from when, until when. */
interface Lock {
  workerId: string;
  from: number;
  until: number;
}

/** Records every lock handed out per task, from the api's own events. */
function recordLocks(api: ExternalTaskApi): Map<string, Lock[]> {
  const locks = new Map<string, Lock[]>();
  api.events.on('task:locked', ({ task }) => {
    const lock = { workerId: task.workerId!, from: Date.now(), until: task.lockExpirationTime!.getTime() };
    locks.set(task.id, [...(locks.get(task.id) ?? []), lock]);
  });
  return locks;
}

function expectNoOverlappingLocks(locks: Map<string, Lock[]>): void {
  for (const [id, history] of locks) {
    for (let i = 1; i < history.length; i++) {
      expect(
        history[i]!.from,
        `task ${id} was locked again before the lock of ${history[i - 1]!.workerId} expired`,
      ).to.be.at.least(history[i - 1]!.until);
    }
  }
}

describe('fetch and lock under concurrency', () => {
  it('hands every task to exactly one of many concurrently polling workers', async () => {
    const repository = new InMemoryExternalTaskRepository();
    const api = new ExternalTaskApi({ repository });
    const locks = recordLocks(api);
    const finished = new Map<string, number>();
    api.events.on('task:finished', ({ task }) => finished.set(task.id, (finished.get(task.id) ?? 0) + 1));
    const total = 2000;
    const ids = await createTasks(repository, total);

    const worker = async (workerId: string, maxTasks: number): Promise<number> => {
      let done = 0;
      for (;;) {
        const tasks = await api.fetchAndLockExternalTasks(identity, workerId, 'invoice', maxTasks, 0, 60_000);
        if (tasks.length === 0) return done;
        await Promise.all(
          tasks.map((task) => api.finishExternalTask(identity, workerId, task.id, { by: workerId })),
        );
        done += tasks.length;
      }
    };
    const counts = await Promise.all(Array.from({ length: 25 }, (_, i) => worker(`w${i}`, 1 + (i % 20))));

    expect(counts.reduce((a, b) => a + b, 0)).to.equal(total);
    expect([...finished.keys()].sort()).to.deep.equal([...ids].sort());
    expect([...finished.values()].every((count) => count === 1)).to.equal(true);
    expect([...locks.values()].every((history) => history.length === 1)).to.equal(true);
    await api.close();
  });

  it('never lets two workers hold overlapping locks while locks expire and tasks are retaken', async () => {
    const clock = useFakeTime();
    try {
      const repository = new InMemoryExternalTaskRepository();
      const api = new ExternalTaskApi({ repository });
      const locks = recordLocks(api);
      const ids = await createTasks(repository, 300);
      const outcomes = new Map<string, string>();
      api.events.on('task:finished', ({ task }) => {
        expect(outcomes.has(task.id), `task ${task.id} finished twice`).to.equal(false);
        outcomes.set(task.id, task.workerId!);
      });
      const staleReports: Promise<unknown>[] = [];
      let stop = false;
      let round = 0;

      // Each worker abandons every third task it gets (as if it crashed); abandoned tasks come back when
      // their locks expire, and the abandoning worker's late report must then be refused with 423.
      const worker = async (workerId: string): Promise<void> => {
        while (!stop) {
          const tasks = await api.fetchAndLockExternalTasks(identity, workerId, 'invoice', 7, 2000, 1000);
          for (const task of tasks) {
            if (++round % 3 === 0 && !stop) {
              staleReports.push(
                clock
                  .tickAsync(0)
                  .then(() => new Promise((resolve) => setTimeout(resolve, 5000)))
                  .then(() => api.finishExternalTask(identity, workerId, task.id, 'late'))
                  .catch((error: unknown) => error),
              );
            } else {
              await api.finishExternalTask(identity, workerId, task.id, 'on time');
            }
          }
        }
      };
      const workers = Array.from({ length: 8 }, (_, i) => worker(`w${i}`));
      for (let step = 0; step < 200 && outcomes.size < ids.length; step++) await clock.tickAsync(250);
      stop = true;
      await clock.tickAsync(10_000);
      await api.close();
      await Promise.all(workers);
      const late = await Promise.all(staleReports);

      expect(outcomes.size).to.equal(ids.length);
      expectNoOverlappingLocks(locks);
      expect(
        [...locks.values()].some((history) => history.length > 1),
        'some task should have been retaken',
      ).to.equal(true);
      const refusedLate = late.filter(
        (result) => result instanceof LockedError || (result as { status?: number })?.status === 410,
      );
      expect(refusedLate.length).to.be.greaterThan(0);
      expect(late.every((result) => result === undefined || result instanceof Error)).to.equal(true);
    } finally {
      clock.restore();
    }
  });

  it('property: whatever the interleaving, no task is handed out twice and no waiting poll misses an available task', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant('create' as const), topic: fc.constantFrom('a', 'b') }),
            fc.record({
              kind: fc.constant('poll' as const),
              topics: fc.subarray(['a', 'b'], { minLength: 1 }),
              maxTasks: fc.integer({ min: 1, max: 3 }),
            }),
          ),
          { minLength: 1, maxLength: 25 },
        ),
        async (scheduler, commands) => {
          const store = new InMemoryExternalTaskRepository();
          // Every store operation takes effect when the scheduler says so, in a random order.
          const later =
            <A extends unknown[], R>(operation: (...args: A) => Promise<R>) =>
            async (...args: A): Promise<R> => {
              await scheduler.schedule(Promise.resolve());
              return operation(...args);
            };
          const repository: ExternalTaskRepository = {
            create: later((task) => store.create(task)),
            createMany: later((tasks) => store.createMany(tasks)),
            getById: later((id) => store.getById(id)),
            claim: later((request) => store.claim(request)),
            extendLock: later((request) => store.extendLock(request)),
            unlock: later((request) => store.unlock(request)),
            complete: later((request) => store.complete(request)),
            cancel: later((selector) => store.cancel(selector)),
            setRetries: later((id, retries, options) => store.setRetries(id, retries, options)),
            forceUnlock: later((id) => store.forceUnlock(id)),
            setPriority: later((id, priority) => store.setPriority(id, priority)),
            deleteFinalTasks: later((selector) => store.deleteFinalTasks(selector)),
            query: later((filter) => store.query(filter)),
            countByTopic: later((topics) => store.countByTopic(topics)),
            msUntilNextAvailable: later((topics) => store.msUntilNextAvailable(topics)),
            watchAvailability: (listener) => store.watchAvailability(listener),
            subscribe: (subscriber) => store.subscribe(subscriber),
            currentPosition: () => store.currentPosition(),
          };
          const api = new ExternalTaskApi({ repository });
          const polls: { topics: string[]; result?: ExternalTask[] }[] = [];
          const running: Promise<unknown>[] = [];
          for (const [index, command] of commands.entries()) {
            if (command.kind === 'create') {
              running.push(repository.create(newTask(command.topic)));
            } else {
              const poll: { topics: string[]; result?: ExternalTask[] } = { topics: command.topics };
              polls.push(poll);
              const fetched = api.fetchAndLock(identity, {
                workerId: `w${index}`,
                topics: command.topics.map((topicName) => ({ topicName, lockDuration: 3_600_000 })),
                maxTasks: command.maxTasks,
                longPollingTimeout: 60_000,
              });
              running.push(fetched.then((tasks) => (poll.result = tasks)));
            }
          }
          await scheduler.waitIdle();

          const handedOut = polls.flatMap((poll) => poll.result ?? []).map((task) => task.id);
          expect(new Set(handedOut).size, 'a task was handed out twice').to.equal(handedOut.length);
          for (const poll of polls.filter((waiting) => waiting.result === undefined)) {
            const available = await store.claim({
              workerId: 'probe',
              topics: poll.topics.map((topicName) => ({ topicName, lockDuration: 1 })),
              maxTasks: 1,
            });
            expect(
              available,
              `a poll on ${poll.topics.join(',')} waits while a task is available`,
            ).to.deep.equal([]);
          }
          await api.close();
          await Promise.all(running);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('spreads a claim’s lock duration per topic and keeps them apart', async () => {
    const clock = sinon.useFakeTimers({ now: 0, toFake: ['Date'] });
    try {
      const repository = new InMemoryExternalTaskRepository();
      const api = new ExternalTaskApi({ repository });
      await repository.create(newTask('short'));
      await repository.create(newTask('long'));
      const tasks = await api.fetchAndLock(identity, {
        workerId: 'w1',
        topics: [
          { topicName: 'short', lockDuration: 10 },
          { topicName: 'long', lockDuration: 10_000 },
        ],
        maxTasks: 10,
      });
      expect(tasks.map((task) => [task.topic, task.lockExpirationTime?.getTime()])).to.deep.equal([
        ['short', 10],
        ['long', 10_000],
      ]);
      await api.close();
    } finally {
      clock.restore();
    }
  });
});
