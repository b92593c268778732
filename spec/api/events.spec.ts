import { expect } from 'chai';
import sinon from 'sinon';
import {
  BadRequestError,
  ExternalTaskApi,
  InMemoryExternalTaskRepository,
  NotFoundError,
  type ExternalTask,
} from '../../lib/index.js';
import { identity, newTask, useFakeTime } from '../support/fixtures.js';

describe('events and awaiting outcomes', () => {
  let clock: sinon.SinonFakeTimers;
  let repository: InMemoryExternalTaskRepository;
  let logger: { error: sinon.SinonStub; warn: sinon.SinonStub };
  let api: ExternalTaskApi;

  beforeEach(() => {
    clock = useFakeTime();
    logger = { error: sinon.stub(), warn: sinon.stub() };
    repository = new InMemoryExternalTaskRepository({ logger });
    api = new ExternalTaskApi({ repository, logger });
  });

  afterEach(async () => {
    await api.close();
    clock.restore();
  });

  async function lockedTask(workerId = 'w1'): Promise<ExternalTask> {
    await repository.create(newTask());
    const [task] = await api.fetchAndLockExternalTasks(identity, workerId, 'invoice', 1, 0, 1000);
    return task!;
  }

  it('announces each step of a task’s life once, with the record after the step', async () => {
    const seen: string[] = [];
    for (const name of [
      'task:created',
      'task:locked',
      'task:extended',
      'task:finished',
      'task:failed',
    ] as const) {
      api.events.on(name, ({ task }: { task: ExternalTask }) =>
        seen.push(`${name}:${task.state}:${task.workerId ?? '-'}`),
      );
    }
    const task = await lockedTask();
    await api.extendLock(identity, 'w1', task.id, 5000);
    await api.finishExternalTask(identity, 'w1', task.id, { done: 1 });
    const other = await lockedTask('w2');
    await api.handleBpmnError(identity, 'w2', other.id, 'E_RULE', 'rejected');
    expect(seen).to.deep.equal([
      'task:created:pending:-',
      'task:locked:pending:w1',
      'task:extended:pending:w1',
      'task:finished:finished:w1',
      'task:created:pending:-',
      'task:locked:pending:w2',
      'task:failed:failed:w2',
    ]);
  });

  it('task:finished carries the result and task:failed the error', async () => {
    const finished = sinon.spy();
    const failed = sinon.spy();
    api.events.on('task:finished', finished);
    api.events.on('task:failed', failed);
    const first = await lockedTask();
    await api.finishExternalTask(identity, 'w1', first.id, { total: 42 });
    const second = await lockedTask();
    await api.handleServiceError(identity, 'w1', second.id, 'smtp down', { host: 'mail' });
    expect(finished.firstCall.args[0]).to.deep.include({ result: { total: 42 } });
    expect(failed.firstCall.args[0]).to.deep.include({
      error: { type: 'service', errorMessage: 'smtp down', errorDetails: { host: 'mail' } },
    });
  });

  it('fires exactly one outcome event when several outcome reports race', async () => {
    const outcomes = sinon.spy();
    api.events.on('task:finished', outcomes);
    api.events.on('task:failed', outcomes);
    const task = await lockedTask();
    const reports = await Promise.allSettled([
      api.finishExternalTask(identity, 'w1', task.id, 1),
      api.handleBpmnError(identity, 'w1', task.id, 'E'),
      api.handleServiceError(identity, 'w1', task.id, 'boom'),
      api.finishExternalTask(identity, 'w1', task.id, 2),
    ]);
    expect(reports.filter((report) => report.status === 'fulfilled')).to.have.length(1);
    for (const report of reports.filter((r): r is PromiseRejectedResult => r.status === 'rejected')) {
      expect(report.reason).to.include({ status: 410, code: 'TASK_GONE' });
    }
    expect(outcomes.callCount).to.equal(1);
  });

  it('contains a throwing listener: the operation succeeds, later listeners still run, the logger hears it', async () => {
    const later = sinon.spy();
    api.events.on('task:created', () => {
      throw new Error('listener bug');
    });
    api.events.on('task:created', later);
    const created = await repository.create(newTask());
    expect(created.state).to.equal('pending');
    expect(later.calledOnce).to.equal(true);
    expect(logger.error.calledOnce).to.equal(true);
  });

  it('reports an async listener’s rejection to the logger instead of leaving it unhandled', async () => {
    // eslint-disable-next-line @typescript-eslint/no-misused-promises -- an async listener is exactly the case under test
    api.events.on('task:created', () => Promise.reject(new Error('async listener bug')));
    await repository.create(newTask());
    await clock.tickAsync(0);
    expect(logger.error.calledOnce).to.equal(true);
  });

  it('calls a once-listener once', async () => {
    const once = sinon.spy();
    api.events.once('task:created', once);
    await repository.create(newTask());
    await repository.create(newTask());
    expect(once.callCount).to.equal(1);
    expect(api.events.listenerCount('task:created')).to.equal(0);
  });

  describe('waitForOutcome', () => {
    it('resolves with the final record when the task finishes', async () => {
      const task = await lockedTask();
      const outcome = api.waitForOutcome(task.id);
      await clock.tickAsync(1000);
      await api.finishExternalTask(identity, 'w1', task.id, 'ok');
      expect(await outcome).to.include({ id: task.id, state: 'finished', result: 'ok' });
    });

    it('resolves at once for a task that already has an outcome', async () => {
      const task = await lockedTask();
      await api.handleBpmnError(identity, 'w1', task.id, 'E_X');
      expect((await api.waitForOutcome(task.id)).error).to.deep.equal({ type: 'bpmn', errorCode: 'E_X' });
    });

    it('rejects (does not throw) with a BadRequestError for an invalid id', async () => {
      const waiting = api.waitForOutcome('');
      const error: unknown = await waiting.catch((caught: unknown) => caught);
      expect(error).to.be.instanceOf(BadRequestError).and.include({ argument: 'externalTaskId' });
    });

    it('rejects with NotFoundError for an unknown task', async () => {
      const error: unknown = await api.waitForOutcome('no-such-task').catch((caught: unknown) => caught);
      expect(error).to.be.instanceOf(NotFoundError);
    });

    it('rejects with the signal’s reason when aborted, and forgets the waiter', async () => {
      const task = await lockedTask();
      const controller = new AbortController();
      const outcome = api.waitForOutcome(task.id, { signal: controller.signal });
      controller.abort(new Error('engine shutting down'));
      const error: unknown = await outcome.catch((caught: unknown) => caught);
      expect(error).to.have.property('message', 'engine shutting down');
      // A later outcome must not reach the aborted waiter (it would throw on a settled promise otherwise).
      await api.finishExternalTask(identity, 'w1', task.id, null);
    });

    it('rejects waiting callers with an AbortError when the api closes', async () => {
      const task = await lockedTask();
      const outcome = api.waitForOutcome(task.id);
      await clock.tickAsync(0);
      await api.close();
      const error: unknown = await outcome.catch((caught: unknown) => caught);
      expect(error).to.have.property('name', 'AbortError');
    });

    it('serves many waiters of the same task', async () => {
      const task = await lockedTask();
      const outcomes = [api.waitForOutcome(task.id), api.waitForOutcome(task.id)];
      await api.finishExternalTask(identity, 'w1', task.id, 7);
      expect((await Promise.all(outcomes)).map((record) => record.result)).to.deep.equal([7, 7]);
    });
  });
});
