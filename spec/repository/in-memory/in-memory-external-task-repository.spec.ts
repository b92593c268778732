import { expect } from 'chai';
import sinon from 'sinon';
import { describeRepositoryContract, ManualClock } from 'external-task-api/testing';
import { ChangeFeedRetentionError } from '../../../lib/errors/index.js';
import type { Logger } from '../../../lib/logging/index.js';
import { InMemoryExternalTaskRepository } from '../../../lib/repository/in-memory/index.js';
import { newTask } from '../../../lib/testing/contract/case-inputs.js';
import { expectBadRequest, rejectionOf } from '../../../lib/testing/contract/expectations.js';
import { ChangeRecorder } from '../../../lib/testing/contract/recorders.js';
import { waitUntil } from '../../../lib/testing/contract/waiting.js';

/** A logger that only records, so that contained subscriber failures do not clutter the test output. */
class RecordingLogger implements Logger {
  readonly errors: { message: string; details: Record<string, unknown> | undefined }[] = [];
  readonly warnings: string[] = [];

  error(message: string, details?: Record<string, unknown>): void {
    this.errors.push({ message, details });
  }

  warn(message: string): void {
    this.warnings.push(message);
  }
}

const NEW_TASK = {
  topic: 'send-invoice',
  flowNodeInstanceId: 'fni-1',
  correlationId: 'corr-1',
  processInstanceId: 'pi-1',
};
const TOPICS = [{ topicName: 'send-invoice', lockDuration: 1000 }];

describeRepositoryContract('InMemoryExternalTaskRepository', ({ clock }) => ({
  repository: new InMemoryExternalTaskRepository({ clock, logger: new RecordingLogger() }),
}));

describe('InMemoryExternalTaskRepository', () => {
  describe('with an injected clock', () => {
    it('takes createdAt, lock expirations and finishedAt from the clock, not from Date.now', async () => {
      const clock = new ManualClock(Date.UTC(2001, 0, 1));
      const repository = new InMemoryExternalTaskRepository({ clock });

      const task = await repository.create(NEW_TASK);
      clock.advance(100);
      const [claimed] = await repository.claim({ workerId: 'worker', topics: TOPICS, maxTasks: 1 });
      clock.advance(50);
      const extended = await repository.extendLock({
        externalTaskId: task.id,
        workerId: 'worker',
        lockDuration: 300,
      });
      clock.advance(25);
      const finished = await repository.complete({
        externalTaskId: task.id,
        workerId: 'worker',
        outcome: { state: 'finished' },
      });

      expect(task.createdAt.getTime()).to.equal(Date.UTC(2001, 0, 1));
      expect(claimed?.lockExpirationTime?.getTime()).to.equal(Date.UTC(2001, 0, 1) + 1100);
      expect(extended.status === 'ok' && extended.task.lockExpirationTime?.getTime()).to.equal(
        Date.UTC(2001, 0, 1) + 450,
      );
      expect(finished.status === 'ok' && finished.task.finishedAt?.getTime()).to.equal(
        Date.UTC(2001, 0, 1) + 175,
      );
    });

    it('lets locks expire when the injected clock says so', async () => {
      const clock = new ManualClock(1_000_000);
      const repository = new InMemoryExternalTaskRepository({ clock });
      const task = await repository.create(NEW_TASK);
      await repository.claim({ workerId: 'first', topics: TOPICS, maxTasks: 1 });

      clock.advance(999);
      expect(await repository.claim({ workerId: 'second', topics: TOPICS, maxTasks: 1 })).to.deep.equal([]);
      expect(await repository.msUntilNextAvailable(['send-invoice'])).to.equal(1);
      clock.advance(1);
      const reclaimed = await repository.claim({ workerId: 'second', topics: TOPICS, maxTasks: 1 });
      expect(reclaimed.map((t) => t.id)).to.deep.equal([task.id]);
    });
  });

  describe('with the default clock', () => {
    let fakeTimers: sinon.SinonFakeTimers | undefined;

    afterEach(() => fakeTimers?.restore());

    it('reads Date.now at call time, so fake timers installed after construction take effect', async () => {
      const repository = new InMemoryExternalTaskRepository();
      fakeTimers = sinon.useFakeTimers({ now: Date.UTC(1999, 11, 31), toFake: ['Date'] });

      const task = await repository.create(NEW_TASK);

      expect(task.createdAt.getTime()).to.equal(Date.UTC(1999, 11, 31));
    });
  });

  describe('subscriber failures', () => {
    it('reports a throwing subscriber to the logger with the position of the change and the error', async () => {
      const logger = new RecordingLogger();
      const repository = new InMemoryExternalTaskRepository({ logger });
      const failure = new Error('subscriber failure');
      const feed = await repository.subscribe({
        onChange: () => {
          throw failure;
        },
      });

      await repository.create(NEW_TASK);
      await waitUntil(
        () => logger.errors.length > 0,
        () => 'the failure to be logged',
      );

      expect(logger.errors).to.have.length(1);
      expect(logger.errors[0]?.details).to.include({ error: failure, position: 1 });
      await feed.close();
    });
  });

  describe('topics whose tasks are all final', () => {
    it('accepts and hands out new tasks of a topic after all its earlier tasks were finished', async () => {
      const repository = new InMemoryExternalTaskRepository();
      const first = await repository.create(NEW_TASK);
      await repository.claim({ workerId: 'worker', topics: TOPICS, maxTasks: 1 });
      await repository.complete({
        externalTaskId: first.id,
        workerId: 'worker',
        outcome: { state: 'finished' },
      });
      expect(await repository.msUntilNextAvailable(['send-invoice'])).to.be.undefined;

      const second = await repository.create(NEW_TASK);
      const claimed = await repository.claim({ workerId: 'worker', topics: TOPICS, maxTasks: 5 });

      expect(claimed.map((task) => task.id)).to.deep.equal([second.id]);
    });
  });

  describe('changesRetained', () => {
    const createTasks = async (repository: InMemoryExternalTaskRepository, count: number): Promise<void> => {
      await repository.createMany(Array.from({ length: count }, () => newTask()));
    };

    it('refuses a resume from before the retained changes with a ChangeFeedRetentionError', async () => {
      const repository = new InMemoryExternalTaskRepository({ changesRetained: 5 });
      await createTasks(repository, 8);

      const error = await rejectionOf(repository.subscribe({ after: 2, onChange: () => undefined }));

      expect(error).to.be.instanceOf(ChangeFeedRetentionError);
      expect(error).to.include({
        status: 410,
        code: 'CHANGE_FEED_RETENTION_EXCEEDED',
        after: 2,
        oldestResumable: 3,
      });
    });

    it('resumes from the oldest retained position, delivering every retained change', async () => {
      const repository = new InMemoryExternalTaskRepository({ changesRetained: 5 });
      await createTasks(repository, 8);

      const resumed = await ChangeRecorder.subscribe(repository, { after: 3 });
      await resumed.settled();

      expect(resumed.changes.map((change) => change.position)).to.deep.equal([4, 5, 6, 7, 8]);
      await resumed.close();
    });

    it('keeps the latest 10,000 changes by default', async () => {
      const repository = new InMemoryExternalTaskRepository();
      for (let i = 0; i < 10; i++) await createTasks(repository, 1000);
      await createTasks(repository, 1);

      const error = await rejectionOf(repository.subscribe({ after: 0, onChange: () => undefined }));
      expect(error).to.be.instanceOf(ChangeFeedRetentionError);
      expect(error).to.include({ code: 'CHANGE_FEED_RETENTION_EXCEEDED', after: 0, oldestResumable: 1 });
      const resumed = await repository.subscribe({ after: 1, onChange: () => undefined });
      await resumed.close();
    });

    it('tells a subscriber that fell behind the retained changes what it missed, then goes on', async () => {
      const repository = new InMemoryExternalTaskRepository({ changesRetained: 3 });
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const slow = await ChangeRecorder.subscribe(repository, {
        onChange: async (change) => {
          if (change.position === 1) await released;
        },
      });
      const fast = await ChangeRecorder.subscribe(repository);

      await repository.create(newTask());
      for (let i = 0; i < 10; i++) await repository.create(newTask());
      await fast.settled();
      release();
      await slow.settled();

      expect(fast.changes.map((change) => change.position)).to.deep.equal([
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
      ]);
      expect(slow.resyncs).to.deep.equal([{ lastDelivered: 1, resumedAfter: 8 }]);
      expect(slow.changes.map((change) => change.position)).to.deep.equal([1, 9, 10, 11]);
      await slow.close();
      await fast.close();
    });

    it('logs a resynchronisation as an error when the subscriber takes no onResync', async () => {
      const logger = new RecordingLogger();
      const repository = new InMemoryExternalTaskRepository({ changesRetained: 2, logger });
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const positions: number[] = [];
      const feed = await repository.subscribe({
        onChange: async (change) => {
          positions.push(change.position);
          if (change.position === 1) await released;
        },
      });

      for (let i = 0; i < 5; i++) await repository.create(newTask());
      release();
      await waitUntil(
        () => positions.length >= 3,
        () => `the subscriber to go on after the gap (got ${positions.join(', ')})`,
      );

      expect(positions).to.deep.equal([1, 4, 5]);
      expect(logger.errors).to.have.length(1);
      expect(logger.errors[0]?.details).to.include({ lastDelivered: 1, resumedAfter: 3 });
      await feed.close();
    });

    it('does not trim changes a subscriber that keeps up has not had, when a subscriber writes many during a delivery', async () => {
      const logger = new RecordingLogger();
      const repository = new InMemoryExternalTaskRepository({ changesRetained: 10, logger });
      const seen: number[] = [];
      const writer = await repository.subscribe({
        onChange: (change) => {
          if (change.type === 'created' && change.task.topic === 'burst') {
            void repository.createMany(Array.from({ length: 30 }, () => newTask()));
          }
        },
      });
      const reader = await repository.subscribe({
        onChange: (change) => void seen.push(change.position),
        onResync: () => expect.fail('a subscriber that keeps up must not be resynchronised'),
      });
      const start = await repository.currentPosition();
      await repository.create(newTask({ topic: 'burst' }));

      expect(seen).to.deep.equal(Array.from({ length: 31 }, (_, index) => start + index + 1));
      expect(logger.errors).to.deep.equal([]);
      await Promise.all([writer.close(), reader.close()]);
    });

    it('refuses a retention that is not a positive integer', async () => {
      for (const changesRetained of [0, -1, 1.5, NaN]) {
        await expectBadRequest(
          Promise.resolve().then(() => new InMemoryExternalTaskRepository({ changesRetained })),
          'changesRetained',
        );
      }
    });

    it('takes the deprecated changeRetention as before, and refuses it beside changesRetained', async () => {
      const repository = new InMemoryExternalTaskRepository({ changeRetention: 5 });
      await createTasks(repository, 8);
      const error = await rejectionOf(repository.subscribe({ after: 2, onChange: () => undefined }));
      expect(error).to.be.instanceOf(ChangeFeedRetentionError);
      expect(error).to.include({ after: 2, oldestResumable: 3 });
      for (const changeRetention of [0, 1.5]) {
        await expectBadRequest(
          Promise.resolve().then(() => new InMemoryExternalTaskRepository({ changeRetention })),
          'changeRetention',
        );
      }
      await expectBadRequest(
        Promise.resolve().then(
          () => new InMemoryExternalTaskRepository({ changesRetained: 5, changeRetention: 5 }),
        ),
        'changesRetained',
      );
    });
  });
});
