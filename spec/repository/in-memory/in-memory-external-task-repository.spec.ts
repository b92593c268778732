import { expect } from 'chai';
import sinon from 'sinon';
import type { Clock } from '../../../lib/clock/index.js';
import type { Logger } from '../../../lib/logging/index.js';
import type { ExternalTaskChange } from '../../../lib/repository/index.js';
import { InMemoryExternalTaskRepository } from '../../../lib/repository/index.js';
import { behavesLikeAnExternalTaskRepository } from '../external-task-repository.behaviour.js';

/** A logger that only records, so that contained listener failures do not clutter the test output. */
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

/** A clock whose time moves only when the test says so. */
class ManualClock implements Clock {
  constructor(private time: number) {}

  now(): number {
    return this.time;
  }

  advance(ms: number): void {
    this.time += ms;
  }

  setTimeout(): never {
    throw new Error('the repository must not schedule timers');
  }

  clearTimeout(): never {
    throw new Error('the repository must not schedule timers');
  }
}

const NEW_TASK = {
  topic: 'send-invoice',
  flowNodeInstanceId: 'fni-1',
  correlationId: 'corr-1',
  processInstanceId: 'pi-1',
};
const TOPICS = [{ topicName: 'send-invoice', lockDuration: 1000 }];

describe('InMemoryExternalTaskRepository', () => {
  behavesLikeAnExternalTaskRepository(
    () => new InMemoryExternalTaskRepository({ logger: new RecordingLogger() }),
  );

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
      expect((await repository.nextAvailableAt(['send-invoice']))?.getTime()).to.equal(1_001_000);
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

  describe('listener failures', () => {
    it('reports a throwing listener to the logger with the change and the error', async () => {
      const logger = new RecordingLogger();
      const repository = new InMemoryExternalTaskRepository({ logger });
      const failure = new Error('listener failure');
      repository.subscribe(() => {
        throw failure;
      });

      const task = await repository.create(NEW_TASK);

      expect(logger.errors).to.have.length(1);
      const details = logger.errors[0]?.details as { change: ExternalTaskChange; error: unknown };
      expect(details.error).to.equal(failure);
      expect(details.change).to.deep.equal({ type: 'created', task });
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
      expect(await repository.nextAvailableAt(['send-invoice'])).to.be.undefined;

      const second = await repository.create(NEW_TASK);
      const claimed = await repository.claim({ workerId: 'worker', topics: TOPICS, maxTasks: 5 });

      expect(claimed.map((task) => task.id)).to.deep.equal([second.id]);
    });
  });
});
