import { expect } from 'chai';
import sinon from 'sinon';
import {
  ExternalTaskApi,
  InMemoryExternalTaskRepository,
  InternalError,
  type ExternalTask,
} from '../../lib/index.js';
import { gate } from '../../lib/testing/contract/waiting.js';
import { createStubRepository } from '../../lib/testing/stub-repository.js';
import { identity, rejectionOf, startTime, taskRecord, useFakeTime } from '../support/fixtures.js';

const pending = taskRecord({ id: '9a3b1c2d-0000-4000-8000-000000000001' });

describe('ExternalTaskApi: its link to the repository', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => (clock = useFakeTime()));
  afterEach(() => clock.restore());

  it('when only the feed opens, closes it again, answers 500 meanwhile, and retries with back-off', async () => {
    const repository = createStubRepository();
    const feedClose = sinon.stub().resolves();
    repository.subscribe.resolves({ position: 0, close: feedClose });
    repository.watchAvailability.onFirstCall().rejects(new Error('no connection'));
    const logger = { error: sinon.stub(), warn: sinon.stub() };
    const api = new ExternalTaskApi({ repository, logger });
    try {
      await clock.tickAsync(0);
      expect(feedClose.calledOnce, 'the feed that did open is closed').to.equal(true);
      const error = await rejectionOf(api.fetchAndLockExternalTasks(identity, 'w', 'invoice', 1, 0, 1000));
      expect(error).to.be.instanceOf(InternalError);
      expect(repository.claim.called).to.equal(false);
      await clock.tickAsync(1000);
      expect(repository.watchAvailability.callCount).to.equal(2);
      expect(await api.fetchAndLockExternalTasks(identity, 'w', 'invoice', 1, 0, 1000)).to.deep.equal([]);
      expect(repository.claim.calledOnce).to.equal(true);
    } finally {
      await api.close();
    }
    expect(clock.countTimers()).to.equal(0);
  });

  it("hears the changes of the engine's first operations, made before its feed had opened", async () => {
    // A store whose subscription opens late (a server's first round trip): the feed starts at the store's
    // position when it opens, so a create made before that would never be heard of.
    const store = new InMemoryExternalTaskRepository();
    const opening = gate();
    const subscribe = store.subscribe.bind(store);
    sinon.stub(store, 'subscribe').callsFake(async (subscriber) => {
      await opening.opened;
      return subscribe(subscriber);
    });
    const api = new ExternalTaskApi({
      repository: store,
      logger: { error: sinon.stub(), warn: sinon.stub() },
    });
    try {
      const created: string[] = [];
      api.events.on('task:created', ({ task }) => void created.push(task.id));
      const creating = api.engine.create({
        topic: 'invoice',
        flowNodeInstanceId: 'fni',
        correlationId: 'c',
        processInstanceId: 'p',
        payload: null,
      });
      await clock.tickAsync(0);
      opening.open();
      const task = await creating;
      await clock.tickAsync(0);
      expect(created, 'task:created heard').to.deep.equal([task.id]);
    } finally {
      await api.close();
    }
  });

  it('runs the engine operations of a closed api as they are (no longer attached, it does not wait)', async () => {
    const store = new InMemoryExternalTaskRepository();
    const api = new ExternalTaskApi({
      repository: store,
      logger: { error: sinon.stub(), warn: sinon.stub() },
    });
    await api.close();
    const task = await api.engine.create({
      topic: 'invoice',
      flowNodeInstanceId: 'fni',
      correlationId: 'c',
      processInstanceId: 'p',
      payload: null,
    });
    expect(await api.engine.getById(task.id)).to.deep.equal(task);
  });

  it('stops retrying when closed', async () => {
    const repository = createStubRepository();
    repository.subscribe.rejects(new Error('no connection'));
    const api = new ExternalTaskApi({ repository, logger: { error: sinon.stub(), warn: sinon.stub() } });
    await clock.tickAsync(0);
    await api.close();
    await clock.tickAsync(60_000);
    expect(repository.subscribe.callCount).to.equal(1);
    expect(clock.countTimers()).to.equal(0);
  });

  it('re-reads the tasks it waits for when its feed had to resynchronise', async () => {
    const repository = createStubRepository();
    const api = new ExternalTaskApi({ repository, logger: { error: sinon.stub(), warn: sinon.stub() } });
    try {
      repository.getById.resolves(pending);
      let outcome: ExternalTask | undefined;
      void api.waitForOutcome(pending.id).then((task) => (outcome = task));
      await clock.tickAsync(0);
      expect(outcome).to.equal(undefined);
      repository.getById.resolves({ ...pending, state: 'finished', finishedAt: new Date(startTime) });
      const subscriber = repository.subscribe.firstCall.args[0];
      await subscriber.onResync?.({ lastDelivered: 3, resumedAfter: 9 });
      await clock.tickAsync(0);
      expect(outcome?.state).to.equal('finished');
    } finally {
      await api.close();
    }
  });
});
