import { expect } from 'chai';
import sinon from 'sinon';
import { ExternalTaskApi, type ExternalTask, type ExternalTaskChange } from '../../lib/index.js';
import {
  cancelledChange,
  createStubRepository,
  failedChange,
  finishedChange,
  type StubRepository,
} from '../../lib/testing/index.js';
import type { SimulatedChange } from '../../lib/testing/stub-repository.js';
import { newTask } from '../support/fixtures.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** A simulated `finished` change of `task` with `result`. */
function finished(task: ExternalTask, result: number): SimulatedChange {
  return { type: 'finished', task: { ...task, state: 'finished' }, result };
}

describe('createStubRepository', () => {
  let repository: StubRepository;
  let task: ExternalTask;

  beforeEach(async () => {
    repository = createStubRepository();
    task = await repository.create(newTask('invoice', { priority: 3, retries: 2 }));
  });

  describe('defaults', () => {
    it('create and createMany answer pending records built from their input', async () => {
      expect(task.id).to.match(UUID);
      expect(task).to.include({ topic: 'invoice', state: 'pending', priority: 3, retries: 2, attempts: 0 });
      expect(task).to.not.have.property('workerId');
      const many = await repository.createMany([newTask('a'), newTask('b')]);
      expect(many.map((record) => record.topic)).to.deep.equal(['a', 'b']);
      expect(new Set(many.map((record) => record.id)).size).to.equal(2);
      expect(many[0]).to.include({ priority: 0, state: 'pending' });
    });

    it('reads find nothing and conditional writes answer not-found', async () => {
      const held = { externalTaskId: task.id, workerId: 'w1' };
      expect(await repository.getById(task.id)).to.equal(undefined);
      expect(await repository.claim({ workerId: 'w1', topics: [], maxTasks: 1 })).to.deep.equal([]);
      expect(await repository.extendLock({ ...held, lockDuration: 1 })).to.deep.equal({
        status: 'not-found',
      });
      expect(await repository.complete({ ...held, outcome: { state: 'finished' } })).to.deep.equal({
        status: 'not-found',
      });
      expect(await repository.unlock(held)).to.deep.equal({ status: 'not-found' });
      expect(await repository.setRetries(task.id, 1)).to.deep.equal({ status: 'not-found' });
      expect(await repository.cancel({ externalTaskId: task.id })).to.equal(0);
      expect(await repository.query({})).to.deep.equal({ tasks: [], total: 0 });
      expect(await repository.countByTopic()).to.deep.equal([]);
      expect(await repository.msUntilNextAvailable(['invoice'])).to.equal(undefined);
      expect(await repository.currentPosition()).to.equal(0);
    });

    it('every method is a sinon stub that can be overridden', async () => {
      repository.getById.resolves(task);
      expect(await repository.getById(task.id)).to.equal(task);
      expect(repository.getById.calledOnceWithExactly(task.id)).to.equal(true);
    });
  });

  describe('with an api', () => {
    let api: ExternalTaskApi;

    beforeEach(() => {
      api = new ExternalTaskApi({ repository, logger: { error: sinon.stub(), warn: sinon.stub() } });
    });

    afterEach(() => api.close());

    it('a simulated change resolves waitForOutcome and fires the api event', async () => {
      repository.getById.resolves(task);
      const onFinished = sinon.spy((_event: { task: ExternalTask; result: unknown }) => undefined);
      api.events.on('task:finished', onFinished);
      const outcome = api.waitForOutcome(task.id);
      await repository.simulateChange(finished(task, 42));
      expect((await outcome).state).to.equal('finished');
      expect(onFinished.calledOnce).to.equal(true);
      expect(onFinished.firstCall.args[0]).to.deep.include({ result: 42 });
      expect(onFinished.firstCall.args[0].task).to.include({ id: task.id, state: 'finished' });
    });

    it('the change builders give simulateChange final records that repeat result, error and incident', async () => {
      const at = new Date(Date.UTC(2030, 0, 1));
      const locked = { ...task, workerId: 'w1', lockExpirationTime: new Date(Date.UTC(2030, 0, 2)) };
      const error = { type: 'service', errorMessage: 'printer on fire' } as const;
      const outcomes: ExternalTask[] = [];
      const feed = await api.consumeOutcomes({
        after: 'now',
        onOutcome: ({ task: record }) => void outcomes.push(record),
      });
      const finishedEvents = sinon.spy();
      const failedEvents = sinon.spy();
      api.events.on('task:finished', finishedEvents);
      api.events.on('task:failed', failedEvents);

      await repository.simulateChange(finishedChange(locked, { invoiceNumber: 'INV-1' }, { at }));
      await repository.simulateChange(failedChange(locked, error, { at, incident: true }));
      await repository.simulateChange(cancelledChange(task, { at }));

      expect(outcomes.map((record) => record.state)).to.deep.equal(['finished', 'failed', 'cancelled']);
      expect(outcomes[0]).to.include({ workerId: 'w1' });
      expect(outcomes[0]?.result).to.deep.equal({ invoiceNumber: 'INV-1' });
      expect(outcomes[1]).to.deep.include({ error, incident: true });
      for (const record of outcomes) {
        expect(record.finishedAt).to.deep.equal(at);
        expect(record).to.not.have.property('lockExpirationTime');
      }
      expect(finishedEvents.firstCall.args[0]).to.deep.include({ result: { invoiceNumber: 'INV-1' } });
      expect(failedEvents.firstCall.args[0]).to.deep.include({ error, incident: true });
      await feed.close();
    });

    it('consumeOutcomes after a position gets the outcomes simulated after it, then the new ones', async () => {
      await repository.simulateChange(finished(task, 1));
      await repository.simulateChange(finished(task, 2));
      await repository.simulateChange({ type: 'locked', task });
      const positions: number[] = [];
      const feed = await api.consumeOutcomes({
        after: 1,
        onOutcome: ({ position }) => void positions.push(position),
      });
      await repository.simulateChange(finished(task, 4));
      expect(positions).to.deep.equal([2, 4]);
      expect(feed.position).to.equal(4);
      await feed.close();
    });

    it('stops delivering to the api once it is closed', async () => {
      const onFinished = sinon.spy();
      api.events.on('task:finished', onFinished);
      await api.close();
      await repository.simulateChange(finished(task, 1));
      expect(onFinished.called).to.equal(false);
    });
  });

  describe('change feed', () => {
    it('gives simulated changes consecutive positions and counts them in currentPosition', async () => {
      const received: ExternalTaskChange[] = [];
      const feed = await repository.subscribe({ onChange: (change) => void received.push(change) });
      await repository.simulateChange({ type: 'created', task });
      await repository.simulateChange(finished(task, 7));
      expect(received.map((change) => [change.type, change.position])).to.deep.equal([
        ['created', 1],
        ['finished', 2],
      ]);
      expect(received[1]).to.deep.include({ result: 7 });
      expect(await repository.currentPosition()).to.equal(2);
      await feed.close();
    });

    it("moves the feed's position to the last change delivered to that subscriber", async () => {
      await repository.simulateChange({ type: 'created', task });
      const feed = await repository.subscribe({ onChange: () => undefined });
      expect(feed.position).to.equal(1);
      await repository.simulateChange({ type: 'locked', task });
      expect(feed.position).to.equal(2);
      await repository.simulateChange({ type: 'extended', task });
      expect(feed.position).to.equal(3);
      const late = await repository.subscribe({ onChange: () => undefined });
      expect(late.position).to.equal(3);
      await feed.close();
      await late.close();
    });

    it('replays the changes after `after`, in order, before the ones simulated later', async () => {
      for (const type of ['created', 'locked', 'extended'] as const)
        await repository.simulateChange({ type, task });
      const seen: number[] = [];
      const feed = await repository.subscribe({
        after: 1,
        onChange: async (change) => {
          await Promise.resolve();
          seen.push(change.position);
        },
      });
      await repository.simulateChange({ type: 'unlocked', task });
      expect(seen).to.deep.equal([2, 3, 4]);
      expect(feed.position).to.equal(4);
      await feed.close();
    });

    it('replays nothing to a subscriber that is up to date, and everything after 0', async () => {
      await repository.simulateChange({ type: 'created', task });
      const current: number[] = [];
      const all: number[] = [];
      const upToDate = await repository.subscribe({
        after: 1,
        onChange: (c) => void current.push(c.position),
      });
      const fromStart = await repository.subscribe({ after: 0, onChange: (c) => void all.push(c.position) });
      await repository.simulateChange({ type: 'locked', task });
      expect(current).to.deep.equal([2]);
      expect(all).to.deep.equal([1, 2]);
      await upToDate.close();
      await fromStart.close();
    });

    it('close() stops delivery to that subscriber only, and is safe to call twice', async () => {
      const closed = sinon.spy();
      const open = sinon.spy();
      const feed = await repository.subscribe({ onChange: closed });
      const other = await repository.subscribe({ onChange: open });
      await repository.simulateChange({ type: 'created', task });
      await feed.close();
      await feed.close();
      await repository.simulateChange({ type: 'locked', task });
      expect(closed.callCount).to.equal(1);
      expect(feed.position).to.equal(1);
      expect(open.callCount).to.equal(2);
      await other.close();
    });

    it("simulateChange rejects with a subscriber's failure, and delivery goes on", async () => {
      const failure = new RangeError('subscriber failed');
      const onChange = sinon.stub().onFirstCall().throws(failure);
      const feed = await repository.subscribe({ onChange });
      let error: unknown;
      await repository.simulateChange({ type: 'created', task }).catch((caught: unknown) => (error = caught));
      expect(error).to.equal(failure);
      await repository.simulateChange({ type: 'locked', task });
      expect(onChange.callCount).to.equal(2);
      await feed.close();
    });
  });

  describe('availability', () => {
    it('simulateAvailability reaches open watches until they close', async () => {
      const listener = sinon.spy();
      const watch = await repository.watchAvailability(listener);
      const hints = [{ topic: 'invoice', delay: 0 }];
      repository.simulateAvailability(hints);
      await watch.close();
      repository.simulateAvailability(hints);
      expect(listener.calledOnceWithExactly(hints)).to.equal(true);
    });
  });
});
