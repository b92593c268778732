import { expect } from 'chai';
import sinon from 'sinon';
import { ExternalTaskApi, InternalError, type ExternalTask } from '../../lib/index.js';
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
