import { expect } from 'chai';
import sinon from 'sinon';
import {
  ChangeFeedRetentionError,
  ExternalTaskApi,
  InMemoryExternalTaskRepository,
  systemClock,
  type Clock,
  type ExternalTask,
  type ExternalTaskOutcome,
  type OutcomeFailure,
} from '../../lib/index.js';
import { identity, newTask, rejectionOf, startTime, useFakeTime } from '../support/fixtures.js';

const minute = 60_000;

/** The process's (fake) clock, shifted by `skewMs`: the store's clock on another machine. */
function skewedClock(skewMs: number): Clock {
  return { ...systemClock, now: () => Date.now() + skewMs };
}

describe('ExternalTaskApi: store time, record independence and durable outcomes', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => (clock = useFakeTime()));
  afterEach(() => clock.restore());

  for (const skew of [-7_000, 7_000]) {
    it(`wakes a long poll exactly at a lock's expiry when the store's clock is ${skew} ms off`, async () => {
      const repository = new InMemoryExternalTaskRepository({ clock: skewedClock(skew) });
      const api = new ExternalTaskApi({ repository });
      const claim = sinon.spy(repository, 'claim');
      try {
        const { id } = await repository.create(newTask());
        await api.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 1, 0, 5000);
        let answer: ExternalTask[] | undefined;
        void api
          .fetchAndLockExternalTasks(identity, 'w2', 'invoice', 1, minute, minute)
          .then((t) => (answer = t));
        await clock.tickAsync(4999);
        expect(answer).to.equal(undefined);
        // Neither a busy loop nor a wake-up per skewed second: the waiting poll claimed once so far.
        expect(claim.callCount).to.equal(2);
        await clock.tickAsync(1);
        expect(answer?.map((t) => [t.id, t.workerId])).to.deep.equal([[id, 'w2']]);
        expect(claim.callCount).to.equal(3);
      } finally {
        await api.close();
      }
    });
  }

  it('hands every listener, every waiter and the caller records of their own', async () => {
    const repository = new InMemoryExternalTaskRepository();
    const api = new ExternalTaskApi({ repository });
    const second = new ExternalTaskApi({ repository });
    const logger = { error: sinon.stub(), warn: sinon.stub() };
    const tampering = new ExternalTaskApi({ repository, logger });
    try {
      tampering.events.on('task:locked', ({ task }) => {
        (task as { workerId?: string }).workerId = 'x';
      });
      const seenBySecond: (string | undefined)[] = [];
      second.events.on('task:locked', ({ task }) => seenBySecond.push(task.workerId));
      const { id } = await repository.create(newTask());
      const outcome = api.waitForOutcome(id);
      const [task] = await api.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 1, 0, minute);
      expect(task?.workerId).to.equal('w1');
      expect(seenBySecond).to.deep.equal(['w1']);
      expect(logger.error.calledOnce, 'the tampering listener was refused and logged').to.equal(true);
      await api.finishExternalTask(identity, 'w1', id, { n: 1 });
      const finished = await outcome;
      expect(Object.isFrozen(finished)).to.equal(true);
      expect(finished.state).to.equal('finished');
      expect(() => finished.createdAt.setTime(0)).to.throw(TypeError);
      expect(finished.createdAt.getTime()).to.equal(startTime);
      expect((await repository.getById(id))?.workerId).to.equal('w1');
    } finally {
      await Promise.all([api.close(), second.close(), tampering.close()]);
    }
  });

  describe('consumeOutcomes', () => {
    /** An engine that handles outcomes and keeps the position of the last one it handled. */
    function engine(
      api: ExternalTaskApi,
      stored: { position?: number },
      handled: string[],
      stopAfter = Infinity,
    ) {
      let count = 0;
      let stop: () => void = () => undefined;
      const stopped = new Promise<void>((resolve) => (stop = resolve));
      const feed = api.consumeOutcomes({
        after: stored.position ?? 'now',
        onOutcome: async ({ task, position }: ExternalTaskOutcome) => {
          await Promise.resolve(); // an engine writes its own state here
          handled.push(`${task.id}:${task.state}`);
          stored.position = position;
          if (++count === stopAfter) stop();
        },
      });
      return { feed, stopped };
    }

    it('an engine that stops mid-stream and restarts handles every outcome exactly once', async () => {
      const repository = new InMemoryExternalTaskRepository();
      const workers = new ExternalTaskApi({ repository });
      const stored: { position?: number } = {};
      const handled: string[] = [];
      try {
        stored.position = await repository.currentPosition();
        const tasks = await repository.createMany(Array.from({ length: 10 }, () => newTask()));
        const first = engine(workers, stored, handled, 4);
        const claimed = await workers.fetchAndLockExternalTasks(identity, 'w', 'invoice', 10, 0, minute);
        expect(claimed).to.have.length(10);
        for (const [index, task] of tasks.entries()) {
          if (index < 6) await workers.finishExternalTask(identity, 'w', task.id, index);
          else if (index < 8) await workers.handleBpmnError(identity, 'w', task.id, 'E');
        }
        await first.stopped;
        await (await first.feed).close();
        const handledBeforeRestart = handled.length;
        expect(handledBeforeRestart).to.be.at.least(4);
        // While the engine is down: the last outcomes happen.
        await repository.cancel({ externalTaskId: tasks[8]!.id });
        await workers.handleServiceError(identity, 'w', tasks[9]!.id, 'down');
        const second = engine(workers, stored, handled, tasks.length - handledBeforeRestart);
        await second.stopped;
        await (await second.feed).close();
        const expected = tasks.map(
          (task, index) =>
            `${task.id}:${index < 6 ? 'finished' : index < 8 ? 'failed' : index === 8 ? 'cancelled' : 'failed'}`,
        );
        expect(handled).to.deep.equal(expected);
      } finally {
        await workers.close();
      }
    });

    it('with retry.maxAttempts 1, stops at an outcome whose handling failed, so a resume from the stored position handles it', async () => {
      const repository = new InMemoryExternalTaskRepository();
      const api = new ExternalTaskApi({ repository });
      try {
        const stored: { position?: number } = { position: await repository.currentPosition() };
        const [a, b] = await repository.createMany([newTask(), newTask()]);
        const handled: string[] = [];
        const stopped: {
          error?: unknown;
          outcome?: ExternalTaskOutcome | undefined;
          failure?: OutcomeFailure;
        } = {};
        let failOnce = true;
        await api.consumeOutcomes({
          after: stored.position ?? 'now',
          onOutcome: ({ task, position }) => {
            if (failOnce) {
              failOnce = false;
              throw new Error('engine database unavailable');
            }
            handled.push(task.id);
            stored.position = position;
          },
          onError: (error, outcome, failure) => Object.assign(stopped, { error, outcome, failure }),
          retry: { maxAttempts: 1 },
        });
        await repository.cancel({ externalTaskId: a!.id });
        await repository.cancel({ externalTaskId: b!.id });
        expect(handled).to.deep.equal([]);
        expect((stopped.error as Error).message).to.equal('engine database unavailable');
        expect(stopped.outcome?.task.id).to.equal(a!.id);
        expect(stopped.failure).to.deep.equal({ attempt: 1, retryIn: undefined });
        await clock.tickAsync(10 * minute);
        expect(handled, 'nothing more after the stop, however long').to.deep.equal([]);

        const resumed = await api.consumeOutcomes({
          after: stored.position ?? 'now',
          onOutcome: ({ task, position }) => {
            handled.push(task.id);
            stored.position = position;
          },
        });
        expect(handled).to.deep.equal([a!.id, b!.id]);
        await resumed.close();
      } finally {
        await api.close();
      }
    });

    it('stops instead of skipping when it fell behind the retention and has no onResync', async () => {
      const repository = new InMemoryExternalTaskRepository({ changesRetained: 3 });
      const api = new ExternalTaskApi({ repository });
      try {
        let release: () => void = () => undefined;
        const errors: unknown[] = [];
        await api.consumeOutcomes({
          after: 'now',
          onOutcome: () => new Promise<void>((resolve) => (release = resolve)),
          onError: (error) => errors.push(error),
        });
        const tasks = await repository.createMany(Array.from({ length: 6 }, () => newTask()));
        for (const task of tasks) await repository.cancel({ externalTaskId: task.id });
        release();
        await clock.tickAsync(0);
        expect(errors).to.have.length(1);
        expect(errors[0]).to.be.instanceOf(ChangeFeedRetentionError);
      } finally {
        await api.close();
      }
    });

    it('is refused after close, and close() closes the feeds it handed out', async () => {
      const repository = new InMemoryExternalTaskRepository();
      const api = new ExternalTaskApi({ repository });
      const handled: string[] = [];
      await api.consumeOutcomes({ after: 'now', onOutcome: ({ task }) => void handled.push(task.id) });
      await api.close();
      const { id } = await repository.create(newTask());
      await repository.cancel({ externalTaskId: id });
      expect(handled).to.deep.equal([]);
      const error = await rejectionOf(api.consumeOutcomes({ after: 'now', onOutcome: () => undefined }));
      expect((error as DOMException).name).to.equal('AbortError');
    });

    it('refuses to resume from a position the store no longer retains, with a typed error', async () => {
      const repository = new InMemoryExternalTaskRepository({ changesRetained: 5 });
      const api = new ExternalTaskApi({ repository });
      try {
        await repository.createMany(Array.from({ length: 10 }, () => newTask()));
        const error = await rejectionOf(api.consumeOutcomes({ after: 2, onOutcome: () => undefined }));
        expect(error).to.be.instanceOf(ChangeFeedRetentionError);
        expect((error as ChangeFeedRetentionError).code).to.equal('CHANGE_FEED_RETENTION_EXCEEDED');
        expect((error as ChangeFeedRetentionError).oldestResumable).to.equal(5);
      } finally {
        await api.close();
      }
    });
  });
});
