import { expect } from 'chai';
import sinon from 'sinon';
import {
  BadRequestError,
  ExternalTaskApi,
  ForbiddenError,
  GoneError,
  InMemoryExternalTaskRepository,
  InternalError,
  LockedError,
  NotFoundError,
  type ExternalTask,
} from '../../lib/index.js';
import { createStubRepository } from '../../lib/testing/index.js';
import { identity, newTask, rejectionOf, useApiTestbed } from '../support/fixtures.js';

const minute = 60_000;
const unknownId = '00000000-0000-4000-8000-000000000000';

describe('api.engine: the engine operations on the facade', () => {
  const bed = useApiTestbed();

  const held = async (workerId = 'w1'): Promise<ExternalTask> => {
    await bed.api.engine.create(newTask('invoice'));
    const [task] = await bed.api.fetchAndLockExternalTasks(identity, workerId, 'invoice', 1, 0, minute);
    return task!;
  };

  it('creates a task the api hands out and whose outcome it awaits', async () => {
    const created = sinon.spy();
    bed.api.events.on('task:created', created);
    const task = await bed.api.engine.create(newTask('invoice', { idempotencyKey: 'fni-1' }));
    const outcome = bed.api.waitForOutcome(task.id);
    const [fetched] = await bed.api.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 1, 0, minute);
    await bed.api.finishExternalTask(identity, 'w1', fetched!.id, { sent: true });
    expect((await outcome).result).to.deep.equal({ sent: true });
    expect(created.calledOnce).to.equal(true);
  });

  it('answers a repeated create with the stored task, so an engine that restarted awaits the first', async () => {
    const first = await bed.api.engine.create(newTask('invoice', { idempotencyKey: 'fni-1' }));
    const [again] = await bed.api.engine.createMany([newTask('invoice', { idempotencyKey: 'fni-1' })]);
    expect(again!.id).to.equal(first.id);
    expect((await bed.api.engine.query({ topic: 'invoice' })).total).to.equal(1);
  });

  it('forceUnlock wakes a waiting fetch and makes the old holder get 423', async () => {
    const task = await held('dead-worker');
    let answered: ExternalTask[] | undefined;
    void bed.api
      .fetchAndLockExternalTasks(identity, 'w2', 'invoice', 1, 10 * minute, minute)
      .then((tasks) => (answered = tasks));
    await bed.clock.tickAsync(0);
    expect(answered).to.equal(undefined);

    const unlocked = await bed.api.engine.forceUnlock(task.id);
    expect(unlocked.workerId).to.equal(undefined);
    await bed.clock.tickAsync(0);
    expect(answered?.map((t) => [t.id, t.workerId])).to.deep.equal([[task.id, 'w2']]);
    const error = await rejectionOf(bed.api.finishExternalTask(identity, 'dead-worker', task.id, 1));
    expect(error).to.be.instanceOf(LockedError).and.include({ lockedBy: 'w2' });
  });

  describe('forceUnlockAll', () => {
    it("takes every task of one worker, live or run out, leaves other workers' tasks, and wakes a waiting fetch", async () => {
      await bed.api.engine.create(newTask('archive'));
      const [runOut] = await bed.api.fetchAndLockExternalTasks(
        identity,
        'dead-worker',
        'archive',
        1,
        0,
        minute,
      );
      await bed.clock.tickAsync(2 * minute);
      const live = await held('dead-worker');
      const other = await held('live-worker');
      const unlocked = sinon.spy();
      bed.api.events.on('task:unlocked', unlocked);
      let answered: ExternalTask[] | undefined;
      void bed.api
        .fetchAndLockExternalTasks(identity, 'w2', 'invoice', 5, 10 * minute, minute)
        .then((tasks) => (answered = tasks));
      await bed.clock.tickAsync(0);
      expect(answered).to.equal(undefined);

      expect(await bed.api.engine.forceUnlockAll({ workerId: 'dead-worker' })).to.equal(2);
      await bed.clock.tickAsync(0);
      expect(unlocked.callCount).to.equal(2);
      expect(answered?.map((task) => task.id)).to.deep.equal([live.id]);
      expect((await bed.api.engine.getById(runOut!.id))?.workerId).to.equal(undefined);
      expect((await bed.api.engine.getById(other.id))?.workerId).to.equal('live-worker');
      expect((await bed.api.engine.query({ workerId: 'dead-worker', state: 'pending' })).total).to.equal(0);
    });

    it('without a worker takes every live lock of every worker, and leaves tasks nobody holds as they are', async () => {
      await held('a');
      await held('b');
      const free = await bed.api.engine.create(newTask('invoice'));
      const unlocked = sinon.spy();
      bed.api.events.on('task:unlocked', unlocked);

      expect(await bed.api.engine.forceUnlockAll()).to.equal(2);
      expect(unlocked.callCount).to.equal(2);
      expect((await bed.api.engine.query({ state: 'pending', locked: true })).total).to.equal(0);
      expect(await bed.api.engine.getById(free.id)).to.deep.include({ state: 'pending', attempts: 0 });
      expect(await bed.api.engine.forceUnlockAll()).to.equal(0);
    });

    it('takes more tasks than one page of its query holds', async () => {
      await bed.api.engine.createMany(Array.from({ length: 1000 }, () => newTask('invoice')));
      await bed.api.engine.createMany(Array.from({ length: 50 }, () => newTask('invoice')));
      for (let i = 0; i < 11; i++) {
        await bed.api.fetchAndLockExternalTasks(identity, 'crashed', 'invoice', 100, 0, minute);
      }

      expect(await bed.api.engine.forceUnlockAll({ workerId: 'crashed' })).to.equal(1050);
      expect((await bed.api.engine.query({ workerId: 'crashed', state: 'pending' })).total).to.equal(0);
    });

    it('refuses options that are not an object, or a worker that is not an id, naming them and changing nothing', async () => {
      const task = await held('w1');
      for (const [options, argument] of [
        ['w1', 'options'],
        [null, 'options'],
        [{ workerId: 5 }, 'options.workerId'],
        [{ workerId: '' }, 'options.workerId'],
      ] as const) {
        const error = await rejectionOf(bed.api.engine.forceUnlockAll(options as never));
        expect(error, JSON.stringify(options)).to.be.instanceOf(BadRequestError).and.include({ argument });
      }
      expect((await bed.api.engine.getById(task.id))?.workerId).to.equal('w1');
    });
  });

  it('setRetries revives an incident after the retry delay and answers the record', async () => {
    const task = await held();
    await bed.api.handleServiceError(identity, 'w1', task.id, 'down', undefined, {
      retries: 0,
      retryTimeout: 0,
    });
    const revived = await bed.api.engine.setRetries(task.id, 2, { retryTimeout: 5000 });
    expect(revived).to.include({ state: 'pending', retries: 2 });
    let answered: ExternalTask[] | undefined;
    void bed.api
      .fetchAndLockExternalTasks(identity, 'w2', 'invoice', 1, 10 * minute, minute)
      .then((tasks) => (answered = tasks));
    await bed.clock.tickAsync(4999);
    expect(answered).to.equal(undefined);
    await bed.clock.tickAsync(1);
    expect(answered?.map((t) => t.id)).to.deep.equal([task.id]);
  });

  it('setPriority moves a pending task ahead in the hand-out order', async () => {
    const first = await bed.api.engine.create(newTask('invoice'));
    const second = await bed.api.engine.create(newTask('invoice'));
    expect((await bed.api.engine.setPriority(second.id, 5)).priority).to.equal(5);
    const tasks = await bed.api.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 2, 0, minute);
    expect(tasks.map((t) => t.id)).to.deep.equal([second.id, first.id]);
  });

  it('throws NotFoundError (404) and GoneError (410) where the repository answers a status', async () => {
    const task = await held();
    await bed.api.finishExternalTask(identity, 'w1', task.id, 1);
    for (const write of [
      () => bed.api.engine.setRetries(unknownId, 1),
      () => bed.api.engine.forceUnlock(unknownId),
      () => bed.api.engine.setPriority(unknownId, 1),
    ]) {
      expect(await rejectionOf(write()))
        .to.be.instanceOf(NotFoundError)
        .and.include({ status: 404 });
    }
    for (const write of [
      () => bed.api.engine.setRetries(task.id, 1),
      () => bed.api.engine.forceUnlock(task.id),
      () => bed.api.engine.setPriority(task.id, 1),
    ]) {
      expect(await rejectionOf(write()))
        .to.be.instanceOf(GoneError)
        .and.include({ state: 'finished' });
    }
  });

  it('cancels, queries, counts and deletes final tasks of a process instance', async () => {
    await bed.api.engine.create(newTask('archive', { processInstanceId: 'pi-1', processModelId: 'm' }));
    const task = await held();
    expect(await bed.api.engine.cancel({ processInstanceId: 'pi-1' })).to.equal(1);
    expect((await bed.api.engine.query({ processModelId: 'm', state: ['cancelled'] })).total).to.equal(1);
    expect((await bed.api.engine.query({ workerId: 'w1', locked: true })).tasks[0]?.id).to.equal(task.id);
    const counts = await bed.api.engine.countByTopic({ topics: ['archive', 'invoice'] });
    expect(counts.map(({ topic, cancelled, locked }) => [topic, cancelled, locked])).to.deep.equal([
      ['archive', 1, 0],
      ['invoice', 0, 1],
    ]);
    expect(await bed.api.engine.deleteFinalTasks({ processInstanceId: 'pi-1' })).to.equal(1);
    expect((await bed.api.engine.query({ processInstanceId: 'pi-1' })).total).to.equal(0);
    expect((await bed.api.engine.getById(task.id))?.state).to.equal('pending');
  });

  it('refuses bad arguments with a BadRequestError naming them, changing nothing', async () => {
    const error = await rejectionOf(bed.api.engine.create(newTask('invoice', { idempotencyKey: '' })));
    expect(error).to.be.instanceOf(BadRequestError).and.include({ argument: 'idempotencyKey' });
    const priority = await rejectionOf(bed.api.engine.setPriority(unknownId, 0.5));
    expect(priority).to.be.instanceOf(BadRequestError).and.include({ argument: 'priority' });
    expect((await bed.api.engine.query({})).total).to.equal(0);
  });
});

describe('api.engine: trust and failures', () => {
  it('applies no access policy: the engine works where every worker call is refused', async () => {
    const api = new ExternalTaskApi({
      repository: new InMemoryExternalTaskRepository(),
      accessPolicy: {
        authorize: () => {
          throw new ForbiddenError('no workers today');
        },
      },
    });
    try {
      const task = await api.engine.create(newTask('invoice'));
      expect((await api.engine.query({ topic: 'invoice' })).tasks[0]?.id).to.equal(task.id);
      const refused = await rejectionOf(api.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 1, 0, 1000));
      expect(refused).to.be.instanceOf(ForbiddenError);
    } finally {
      await api.close();
    }
  });

  it('turns a failing store into an InternalError (500) with the cause, and logs it', async () => {
    const repository = createStubRepository();
    const cause = new Error('connection refused');
    repository.forceUnlock.rejects(cause);
    const logger = { error: sinon.spy(), warn: sinon.spy() };
    const api = new ExternalTaskApi({ repository, logger });
    try {
      const error = await rejectionOf(api.engine.forceUnlock(unknownId));
      expect(error).to.be.instanceOf(InternalError).and.include({ cause });
      expect(logger.error.calledOnce).to.equal(true);
      expect(repository.forceUnlock.calledOnceWith(unknownId)).to.equal(true);
    } finally {
      await api.close();
    }
  });
});
