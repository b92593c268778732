import { expect } from 'chai';
import type { ExternalTaskChange } from '../../repository/external-task-repository.js';
import { bpmnError, OTHER_TOPIC, serviceError, START, TOPIC } from './case-inputs.js';
import type { ContractBed } from './contract-bed.js';
import { changeFeedSubscriberCases } from './change-feed-subscribers.js';
import { ids, taskOf, withoutPosition } from './expectations.js';
import { gate, waitUntil } from './waiting.js';

/** The change feed: ordered, positioned, resumable; and how it treats its subscribers. */
export function describeChangeFeed(bed: ContractBed): void {
  describe('change feed', () => {
    it('announces every change once, with the record after the change', async () => {
      const task = await bed.create();
      const [locked] = await bed.claim('worker', 1);
      bed.clock.advance(10);
      const extended = taskOf(await bed.extend(task.id, 'worker', 2000));
      const finished = taskOf(await bed.finish(task.id, 'worker', 'ok'));
      const other = await bed.create();
      const [otherLocked] = await bed.claim('worker', 1);
      const failed = taskOf(await bed.failBpmn(other.id, 'worker'));

      const changes = await bed.changes();
      expect(changes.map(withoutPosition)).to.deep.equal([
        { type: 'created', task },
        { type: 'locked', task: locked },
        { type: 'extended', task: extended },
        { type: 'finished', task: finished, result: 'ok' },
        { type: 'created', task: other },
        { type: 'locked', task: otherLocked },
        { type: 'failed', task: failed, error: bpmnError, incident: false },
      ]);
      expect(changes[2]?.task.lockExpirationTime?.getTime()).to.equal(START + 2010);
      expect(changes[3]?.task.state).to.equal('finished');
    });

    it('announces one locked change per claimed task', async () => {
      const created = [await bed.create(), await bed.create(), await bed.create()];
      await bed.forgetChanges();

      await bed.claim('worker', 10);

      const changes = await bed.changes();
      expect(changes.map((change) => change.type)).to.deep.equal(['locked', 'locked', 'locked']);
      expect(changes.map((change) => change.task.id)).to.have.members(ids(created));
      for (const change of changes) expect(change.task.workerId).to.equal('worker');
    });

    it('carries the error of a scheduled retry, and the error and incident flag of a failure', async () => {
      const held = await bed.createHeld('worker-a', { topic: TOPIC, retries: 2 });
      const failed = taskOf(await bed.failService(held.id, 'worker-a', { retries: 0, retryTimeout: 0 }));

      const [change] = await bed.changesOf('failed', held.id);
      expect(withoutPosition(change!)).to.deep.equal({
        type: 'failed',
        task: failed,
        error: serviceError,
        incident: true,
      });
      const other = await bed.createHeld('worker-a', { topic: TOPIC });
      const retrying = taskOf(await bed.failService(other.id, 'worker-a', { retries: 1, retryTimeout: 10 }));
      const [retry] = await bed.changesOf('retryScheduled', other.id);
      expect(withoutPosition(retry!)).to.deep.equal({
        type: 'retryScheduled',
        task: retrying,
        error: serviceError,
      });
    });

    it('gives every change a position, strictly increasing; the last one is the current position', async () => {
      expect(await bed.repository.currentPosition()).to.equal(0);
      const task = await bed.create();
      await bed.createHeld();
      await bed.claim('worker', 1);
      await bed.finish(task.id, 'worker');
      await bed.repository.cancel({ processInstanceId: task.processInstanceId });

      const positions = (await bed.changes()).map((change) => change.position);
      expect(positions).to.have.length(5);
      expect(positions[0]).to.be.greaterThan(0);
      positions.slice(1).forEach((position, i) => expect(position).to.be.greaterThan(positions[i]!));
      expect(await bed.repository.currentPosition()).to.equal(positions[positions.length - 1]);
    });

    it('starts a subscription without a position at the current end: only later changes, from its position', async () => {
      await bed.create();
      await bed.create();
      const end = await bed.repository.currentPosition();

      const late = await bed.record();
      expect(late.subscription.position).to.equal(end);
      const task = await bed.create();
      await late.settled();

      expect(late.changes.map(withoutPosition)).to.deep.equal([{ type: 'created', task }]);
      expect(late.subscription.position).to.equal(late.changes[0]!.position);
    });

    it('replays exactly the changes after a position, in order, then live ones, none twice', async () => {
      const first = await bed.create();
      await bed.create();
      await bed.create();
      await bed.claim('worker', 2);
      const before = await bed.changes();
      const after = before[1]!.position;

      const resumed = await bed.record({ after });
      await bed.finish(first.id, 'worker', 'live');
      await resumed.settled();

      const all = await bed.changes();
      expect(resumed.changes).to.deep.equal(all.slice(2));
      expect(new Set(resumed.changes.map((change) => change.position)).size).to.equal(resumed.changes.length);
      expect(resumed.changes[resumed.changes.length - 1]!.type).to.equal('finished');
    });

    it('replays everything after 0, and nothing after the current position', async () => {
      await bed.create();
      await bed.claim('worker', 1);
      const current = await bed.repository.currentPosition();

      const everything = await bed.record({ after: 0 });
      const nothing = await bed.record({ after: current });
      await everything.settled();
      await nothing.settled();

      expect(everything.changes).to.deep.equal(await bed.changes());
      expect(nothing.changes).to.deep.equal([]);
      expect(nothing.subscription.position).to.equal(current);
    });

    it('delivers the same changes in the same order to every subscriber', async () => {
      const second = await bed.record();
      const third = await bed.record();
      const tasks = await bed.repository.createMany([
        { topic: TOPIC, flowNodeInstanceId: 'f1', correlationId: 'c1', processInstanceId: 'p1' },
        { topic: OTHER_TOPIC, flowNodeInstanceId: 'f2', correlationId: 'c2', processInstanceId: 'p2' },
      ]);
      await Promise.all([
        bed.claim('worker', 10, [
          { topicName: TOPIC, lockDuration: 100 },
          { topicName: OTHER_TOPIC, lockDuration: 100 },
        ]),
        bed.repository.cancel({ externalTaskId: tasks[1]!.id }),
        bed.create(),
      ]);
      await second.settled();
      await third.settled();

      const changes = await bed.changes();
      expect(changes.length).to.be.at.least(5);
      expect(second.changes).to.deep.equal(changes);
      expect(third.changes).to.deep.equal(changes);
    });

    it('keeps the order for every subscriber when a subscriber writes while handling a change', async () => {
      const cancelling = await bed.record({
        onChange: async (change) => {
          if (change.type === 'created') await bed.repository.cancel({ externalTaskId: change.task.id });
        },
      });
      const later = await bed.record();

      const task = await bed.create();
      await waitUntil(
        () => cancelling.changes.length >= 2,
        () => `the cancelling subscriber to see its own cancel (saw ${cancelling.changes.length} changes)`,
      );
      await cancelling.settled();
      await later.settled();

      for (const changes of [await bed.changes(), cancelling.changes, later.changes]) {
        expect(changes.map((change) => [change.type, change.task.id])).to.deep.equal([
          ['created', task.id],
          ['cancelled', task.id],
        ]);
      }
    });

    changeFeedSubscriberCases(bed);
  });

  describe('change feed: durable resume', () => {
    it('lets a subscriber that stops mid-stream and resumes after its last handled position handle every change exactly once', async () => {
      const stop = gate();
      let received = 0;
      const engine = await bed.record({
        onChange: async () => {
          if (++received === 4) await stop.opened;
        },
      });
      const tasks = [await bed.create(), await bed.create(), await bed.create()];
      await bed.claim('worker', 3);
      await waitUntil(
        () => engine.changes.length >= 4,
        () => `the engine to receive 4 changes (got ${engine.changes.length})`,
      );
      await bed.finish(tasks[0]!.id, 'worker', 'while the engine is busy');

      const closing = engine.close();
      stop.open();
      await closing;
      const lastHandled = engine.position;
      expect(engine.changes).to.have.length(4);
      expect(lastHandled).to.equal(engine.changes[3]!.position);

      await bed.failBpmn(tasks[1]!.id, 'worker');
      await bed.repository.cancel({ externalTaskId: tasks[2]!.id });
      const restarted = await bed.record({ after: lastHandled });
      const live = await bed.create();
      await restarted.settled();

      const all = await bed.changes();
      const handledOnce = [...engine.changes, ...restarted.changes];
      expect(handledOnce).to.deep.equal(all);
      expect(restarted.changes.map((change) => change.type)).to.deep.equal([
        'locked',
        'locked',
        'finished',
        'failed',
        'cancelled',
        'created',
      ]);
      expect(restarted.changes[restarted.changes.length - 1]!.task).to.deep.equal(live);
    });

    it('hands a resumed subscriber the outcomes that happened while it was away, with their records', async () => {
      const task = await bed.create();
      await bed.claim('worker', 1);
      const engine = await bed.record();
      await engine.close();
      const position = engine.position;

      const finished = taskOf(await bed.finish(task.id, 'worker', { invoice: 'INV-1' }));
      const outcomes: ExternalTaskChange[] = [];
      const resumed = await bed.record({ after: position, onChange: (change) => void outcomes.push(change) });
      await resumed.settled();

      expect(outcomes.map(withoutPosition)).to.deep.equal([
        { type: 'finished', task: finished, result: { invoice: 'INV-1' } },
      ]);
    });
  });
}
