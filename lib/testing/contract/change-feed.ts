import { expect } from 'chai';
import type { ExternalTask } from '../../model/index.js';
import type { ExternalTaskChange } from '../../repository/external-task-repository.js';
import {
  bpmnError,
  expectBadRequest,
  expectHints,
  ids,
  OTHER_TOPIC,
  serviceError,
  START,
  taskOf,
  TOPIC,
  tryToChange,
  waitUntil,
  withoutPosition,
  type ContractBed,
} from './contract-bed.js';

/** A few turns of the event loop: room for a store to do what it must not. */
async function someTurns(): Promise<void> {
  for (let turn = 0; turn < 20; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A promise the case resolves when it chooses. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** The change feed (ordered, positioned, resumable) and the availability hints. */
export function describeChanges(bed: ContractBed): void {
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

    it('awaits an async subscriber before delivering it the next change; a slow subscriber holds back no other', async () => {
      const log: string[] = [];
      const handled = gate();
      const slow = await bed.record({
        onChange: async (change) => {
          log.push(`start ${change.type}`);
          if (change.type === 'created') await handled.opened;
          log.push(`end ${change.type}`);
        },
      });
      try {
        await bed.create();
        await bed.claim('worker', 1);
        await bed.settled();
        expect(await bed.changeTypes()).to.deep.equal(['created', 'locked']);
        await waitUntil(
          () => log.length > 0,
          () => 'the slow subscriber to receive its first change',
        );
        await someTurns();

        expect(log).to.deep.equal(['start created']);
      } finally {
        handled.open();
      }
      await slow.settled();
      expect(log).to.deep.equal(['start created', 'end created', 'start locked', 'end locked']);
    });

    it('completes the operation and still informs other listeners when a listener throws', async () => {
      const heardByThrower: string[] = [];
      const throwing = await bed.repository.subscribe({
        onChange: (change) => {
          heardByThrower.push(change.type);
          throw new Error('subscriber failure');
        },
      });
      const rejecting = await bed.record({
        onChange: () => Promise.reject(new Error('subscriber failure')),
      });
      try {
        const task = await bed.create();
        const claimed = await bed.claim('worker', 1);
        const result = await bed.finish(task.id, 'worker');

        expect(ids(claimed)).to.deep.equal([task.id]);
        expect(result.status).to.equal('ok');
        expect(await bed.changeTypes()).to.deep.equal(['created', 'locked', 'finished']);
        await waitUntil(
          () => heardByThrower.length >= 3 && rejecting.changes.length >= 3,
          () =>
            `the failing subscribers to receive 3 changes (${heardByThrower.length}, ${rejecting.changes.length})`,
        );
        expect(heardByThrower).to.deep.equal(['created', 'locked', 'finished']);
        expect(rejecting.changes.map((change) => change.type)).to.deep.equal([
          'created',
          'locked',
          'finished',
        ]);
      } finally {
        await throwing.close();
      }
    });

    it('stops delivering to a subscriber once it closed; closing twice is safe', async () => {
      const heard = await bed.record();
      await bed.create();
      await heard.settled();
      await heard.close();
      await bed.create();
      await bed.claim('worker', 10);

      expect(await bed.changeTypes()).to.deep.equal(['created', 'created', 'locked', 'locked']);
      await someTurns();
      expect(heard.changes.map((change) => change.type)).to.deep.equal(['created']);
      await heard.close();
    });

    it('resolves close() called from inside the subscriber’s own async onChange', async () => {
      let closed = false;
      const feed = await bed.repository.subscribe({
        onChange: async () => {
          await Promise.resolve();
          await feed.close();
          closed = true;
        },
      });
      await bed.create();
      await waitUntil(
        () => closed,
        () => 'close() inside onChange to resolve',
      );
    });

    it('halts a subscriber with onHalt at a change it failed on, keeping its position before it', async () => {
      const first = await bed.create();
      const start = await bed.repository.currentPosition();
      const handled: number[] = [];
      const halted: { error?: unknown; change?: ExternalTaskChange | undefined } = {};
      const feed = await bed.repository.subscribe({
        after: start - 1,
        onChange: async (change) => {
          await Promise.resolve();
          if (change.type === 'locked') throw new Error('handler failed');
          handled.push(change.position);
        },
        onHalt: (error, change) => Object.assign(halted, { error, change }),
      });
      await bed.claim('worker', 1);
      await bed.finish(first.id, 'worker');
      await waitUntil(
        () => halted.error !== undefined,
        () => 'the subscriber to be halted',
      );

      expect(handled).to.deep.equal([start]);
      expect(halted.change?.type).to.equal('locked');
      expect((halted.error as Error).message).to.equal('handler failed');
      expect(feed.position).to.equal(start);
      await someTurns();
      expect(handled).to.deep.equal([start]);

      const again: string[] = [];
      const resumed = await bed.repository.subscribe({
        after: feed.position,
        onChange: (change) => void again.push(change.type),
      });
      await waitUntil(
        () => again.length >= 2,
        () => 'the resumed subscriber to receive the failed change again',
      );
      expect(again).to.deep.equal(['locked', 'finished']);
      await Promise.all([feed.close(), resumed.close()]);
    });

    for (const [label, after] of [
      ['beyond the current position', 1],
      ['negative', -1],
      ['fractional', 0.5],
      ['NaN', Number.NaN],
      ['a string', '0'],
    ] as const) {
      it(`refuses a position that is ${label} with a BadRequestError naming 'after'`, async () => {
        await expectBadRequest(
          bed.repository.subscribe({ after: after as unknown as number, onChange: () => undefined }),
          'after',
        );
      });
    }

    it('hands every subscriber and the caller records of their own: a subscriber changing one changes nothing else', async () => {
      const meddler = await bed.record({
        onChange: (change) => {
          const task = change.task as { workerId?: string; state: string };
          tryToChange(() => (task.workerId = 'meddler'));
          tryToChange(() => (task.state = 'finished'));
        },
      });
      const witness = await bed.record();
      const task = await bed.create();

      const [claimed] = await bed.claim('worker', 1);
      await meddler.settled();
      await witness.settled();

      expect(claimed).to.include({ workerId: 'worker', state: 'pending' });
      for (const changes of [await bed.changes(), witness.changes]) {
        expect(changes.map((change) => change.task.workerId)).to.deep.equal([undefined, 'worker']);
        expect(changes.map((change) => change.task.state)).to.deep.equal(['pending', 'pending']);
      }
      expect(await bed.current(task.id)).to.include({ workerId: 'worker', state: 'pending' });
    });

    it('hands every subscriber and the caller a lock time of their own', async () => {
      const meddler = await bed.record({
        onChange: (change) => void change.task.lockExpirationTime?.setTime(0),
      });
      const witness = await bed.record();
      const task = await bed.create();

      const [claimed] = await bed.claim('worker', 1);
      await meddler.settled();
      await witness.settled();

      const expiry = START + 1000;
      expect(claimed?.lockExpirationTime?.getTime()).to.equal(expiry);
      expect((await bed.changesOf('locked'))[0]!.task.lockExpirationTime?.getTime()).to.equal(expiry);
      expect(witness.changes[1]!.task.lockExpirationTime?.getTime()).to.equal(expiry);
      expect((await bed.current(task.id)).lockExpirationTime?.getTime()).to.equal(expiry);
    });
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

  describe('availability hints', () => {
    it('hints a created task as available now', async () => {
      const batches = await bed.hintsOf(async () => {
        await bed.create();
        await bed.create({ topic: OTHER_TOPIC });
      });

      expect(batches).to.have.length(2);
      expectHints(batches[0], [{ topic: TOPIC, delay: 0, count: 1 }]);
      expectHints(batches[1], [{ topic: OTHER_TOPIC, delay: 0, count: 1 }]);
    });

    it('hints the expiry of the locks a claim takes, once per topic', async () => {
      await bed.create();
      await bed.create();
      await bed.create({ topic: OTHER_TOPIC });
      await bed.create();

      const batches = await bed.hintsOf(() =>
        bed.claim('worker', 3, [
          { topicName: TOPIC, lockDuration: 4000 },
          { topicName: OTHER_TOPIC, lockDuration: 2500 },
        ]),
      );

      expect(batches).to.have.length(1);
      expectHints(batches[0], [
        { topic: TOPIC, delay: 4000, count: 2 },
        { topic: OTHER_TOPIC, delay: 2500, count: 1 },
      ]);
    });

    it('hints nothing for a lock extension, and a task given back as available now', async () => {
      const task = await bed.create();
      await bed.claim('worker', 1);

      expect(await bed.hintsOf(() => bed.extend(task.id, 'worker', 9000))).to.deep.equal([]);
      const batches = await bed.hintsOf(() => bed.unlock(task.id, 'worker'));

      expect(batches).to.have.length(1);
      expectHints(batches[0], [{ topic: TOPIC, delay: 0, count: 1 }]);
    });

    it('hints a scheduled retry with its delay, a retry without delay as available now', async () => {
      const later = await bed.createHeld('worker-a', { topic: TOPIC });
      const now = await bed.createHeld('worker-a', { topic: OTHER_TOPIC });

      const batches = await bed.hintsOf(async () => {
        await bed.failService(later.id, 'worker-a', { retries: 1, retryTimeout: 3000 });
        await bed.failService(now.id, 'worker-a', { retries: 1, retryTimeout: 0 });
      });

      expect(batches).to.have.length(2);
      expectHints(batches[0], [{ topic: TOPIC, delay: 3000, count: 1 }]);
      expectHints(batches[1], [{ topic: OTHER_TOPIC, delay: 0, count: 1 }]);
    });

    it('hints an incident brought back by setRetries as available now', async () => {
      const held = await bed.createHeld('worker-a', { topic: TOPIC, retries: 1 });
      await bed.failService(held.id, 'worker-a');

      const batches = await bed.hintsOf(() => bed.repository.setRetries(held.id, 2));

      expect(batches).to.have.length(1);
      expectHints(batches[0], [{ topic: TOPIC, delay: 0, count: 1 }]);
    });

    it('sends nothing to a closed watch; closing twice is safe', async () => {
      const closed = await bed.watchHints();
      await closed.close();
      await closed.close();
      const open = await bed.watchHints();

      await bed.create();
      await open.received(1);

      expect(closed.batches).to.deep.equal([]);
    });

    it('sends the same hints to every watch', async () => {
      const first = await bed.watchHints();
      const second = await bed.watchHints();

      const tasks: ExternalTask[] = await bed.repository.createMany([
        { topic: TOPIC, flowNodeInstanceId: 'f1', correlationId: 'c1', processInstanceId: 'p1' },
        { topic: TOPIC, flowNodeInstanceId: 'f2', correlationId: 'c2', processInstanceId: 'p2' },
      ]);
      await bed.claim('worker', 1, [{ topicName: TOPIC, lockDuration: 700 }]);
      await first.received(2);
      await second.received(2);

      expect(tasks).to.have.length(2);
      expect(second.batches).to.deep.equal(first.batches);
      expectHints(first.batches[0], [{ topic: TOPIC, delay: 0, count: 2 }]);
      expectHints(first.batches[1], [{ topic: TOPIC, delay: 700, count: 1 }]);
    });
  });
}
