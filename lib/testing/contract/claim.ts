import { expect } from 'chai';
import { LOCK, OTHER_TOPIC, START, TOPIC, topicClaim } from './case-inputs.js';
import type { ContractBed } from './contract-bed.js';
import { ids, taskOf } from './expectations.js';

/** claim: which tasks, in which order, locked how; and the changes a claim that takes a task over makes. */
export function describeClaim(bed: ContractBed): void {
  describe('claim', () => {
    it('locks the tasks it returns for the worker until now + lockDuration', async () => {
      const task = await bed.create();
      bed.clock.advance(500);
      const claimed = await bed.claim('worker-1', 5, [{ topicName: TOPIC, lockDuration: 30_000 }]);

      expect(claimed).to.have.length(1);
      expect(claimed[0]?.id).to.equal(task.id);
      expect(claimed[0]?.state).to.equal('pending');
      expect(claimed[0]?.workerId).to.equal('worker-1');
      expect(claimed[0]?.lockExpirationTime?.getTime()).to.equal(START + 500 + 30_000);
      expect(await bed.repository.getById(task.id)).to.deep.equal(claimed[0]);
    });

    it('returns no more than maxTasks tasks, and the rest to the next claim', async () => {
      const created = [];
      for (let i = 0; i < 5; i++) created.push(await bed.create());

      const first = await bed.claim('worker-1', 3);
      const second = await bed.claim('worker-2', 3);

      expect(ids(first)).to.deep.equal(ids(created.slice(0, 3)));
      expect(ids(second)).to.deep.equal(ids(created.slice(3)));
      expect(await bed.claim('worker-3', 3)).to.deep.equal([]);
    });

    it('returns an empty array when no task of the topics exists', async () => {
      await bed.create({ topic: OTHER_TOPIC });

      expect(await bed.claim('worker', 10)).to.deep.equal([]);
    });

    it('hands out higher priority first, and equal priorities in creation order', async () => {
      const low = await bed.create({ priority: -1 });
      const firstNormal = await bed.create();
      const firstUrgent = await bed.create({ priority: 5 });
      const secondNormal = await bed.create();
      const secondUrgent = await bed.create({ priority: 5 });
      const top = await bed.create({ priority: 10 });

      const claimed = await bed.claim('worker', 10);

      expect(ids(claimed)).to.deep.equal(
        ids([top, firstUrgent, secondUrgent, firstNormal, secondNormal, low]),
      );
    });

    it('hands out the oldest first among equal priorities', async () => {
      const oldest = await bed.create();
      bed.clock.advance(1000);
      const middle = await bed.create();
      bed.clock.advance(1000);
      const newest = await bed.create();

      expect(ids(await bed.claim('worker', 1))).to.deep.equal([oldest.id]);
      expect(ids(await bed.claim('worker', 1))).to.deep.equal([middle.id]);
      expect(ids(await bed.claim('worker', 1))).to.deep.equal([newest.id]);
    });

    it('keeps creation order among many tasks created at the same millisecond', async () => {
      const created = [];
      for (let i = 0; i < 40; i++) created.push(await bed.create());

      const claimed = [];
      for (let round = 0; round < 8; round++) claimed.push(...(await bed.claim(`worker-${round}`, 5)));

      expect(ids(claimed)).to.deep.equal(ids(created));
    });

    it('only hands out tasks of the requested topics', async () => {
      const wanted = await bed.create();
      await bed.create({ topic: OTHER_TOPIC });
      await bed.create({ topic: 'third' });

      const claimed = await bed.claim('worker', 10);

      expect(ids(claimed)).to.deep.equal([wanted.id]);
      expect(claimed[0]?.topic).to.equal(TOPIC);
    });

    it('claims across several topics in one global order, each with its own lock duration', async () => {
      const a1 = await bed.create({ topic: TOPIC, priority: 1 });
      const b1 = await bed.create({ topic: OTHER_TOPIC, priority: 3 });
      const a2 = await bed.create({ topic: TOPIC, priority: 3 });
      const b2 = await bed.create({ topic: OTHER_TOPIC, priority: 1 });
      await bed.create({ topic: 'third', priority: 9 });

      const claimed = await bed.claim('worker', 3, [
        { topicName: TOPIC, lockDuration: 1000 },
        { topicName: OTHER_TOPIC, lockDuration: 5000 },
      ]);

      expect(ids(claimed)).to.deep.equal(ids([b1, a2, a1]));
      const expiries = claimed.map((task) => task.lockExpirationTime?.getTime());
      expect(expiries).to.deep.equal([START + 5000, START + 1000, START + 1000]);
      const rest = await bed.claim('worker', 3, [
        { topicName: TOPIC, lockDuration: 1000 },
        { topicName: OTHER_TOPIC, lockDuration: 5000 },
      ]);
      expect(ids(rest)).to.deep.equal([b2.id]);
    });

    it('does not hand out a locked task again while its lock holds', async () => {
      const task = await bed.create();
      await bed.claim('worker-1', 1);
      bed.clock.advance(999);

      expect(await bed.claim('worker-2', 10)).to.deep.equal([]);
      expect((await bed.repository.getById(task.id))?.workerId).to.equal('worker-1');
    });

    it('hands out a task again, to another worker, once its lock has expired', async () => {
      const task = await bed.create();
      await bed.claim('worker-1', 1);
      bed.clock.advance(1000);

      const claimed = await bed.claim('worker-2', 10, [{ topicName: TOPIC, lockDuration: 2000 }]);

      expect(ids(claimed)).to.deep.equal([task.id]);
      expect(claimed[0]?.workerId).to.equal('worker-2');
      expect(claimed[0]?.lockExpirationTime?.getTime()).to.equal(START + 1000 + 2000);
      expect(claimed[0]?.attempts).to.equal(2);
    });

    it('keeps the original position in the order for a task whose lock expired', async () => {
      const first = await bed.create();
      const second = await bed.create();
      bed.clock.advance(10);
      const third = await bed.create();
      await bed.claim('worker-1', 1, [{ topicName: TOPIC, lockDuration: 100 }]);
      bed.clock.advance(100);
      const fourth = await bed.create();

      const claimed = await bed.claim('worker-2', 10);

      expect(ids(claimed)).to.deep.equal(ids([first, second, third, fourth]));
    });

    it('counts attempts: 1 after the first claim, one more per claim; extend, unlock and complete keep it', async () => {
      const task = await bed.create();
      expect((await bed.claim('worker-1', 1))[0]?.attempts).to.equal(1);
      expect(taskOf(await bed.extend(task.id, 'worker-1', 500)).attempts).to.equal(1);
      expect(taskOf(await bed.unlock(task.id, 'worker-1')).attempts).to.equal(1);
      expect((await bed.current(task.id)).attempts).to.equal(1);

      expect((await bed.claim('worker-2', 1))[0]?.attempts).to.equal(2);
      bed.clock.advance(LOCK);
      expect((await bed.claim('worker-3', 1))[0]?.attempts).to.equal(3);
      const finished = taskOf(await bed.finish(task.id, 'worker-3', 'done'));
      expect(finished.attempts).to.equal(3);
      expect((await bed.current(task.id)).attempts).to.equal(3);
      expect((await bed.changesOf('locked', task.id)).map((change) => change.task.attempts)).to.deep.equal([
        1, 2, 3,
      ]);
    });

    it('counts an attempt for a due retry it takes', async () => {
      const held = await bed.createHeld('worker-a', { topic: TOPIC, retries: 2 });
      await bed.failService(held.id, 'worker-a', { retries: 1, retryTimeout: 100 });
      expect((await bed.current(held.id)).attempts).to.equal(1);
      bed.clock.advance(100);

      expect((await bed.claim('worker-b', 1))[0]?.attempts).to.equal(2);
    });
  });

  describe('lockExpired and retryDue', () => {
    it('is announced once when a claim notices the expired lock, naming the old worker', async () => {
      const topic = bed.freshTopic();
      const held = await bed.createHeld('worker-a', { topic });
      bed.clock.advance(LOCK);
      const claimed = await bed.claim('worker-b', 1, topic);
      expect(ids(claimed)).to.deep.equal([held.id]);
      const expired = await bed.changesOf('lockExpired', held.id);
      expect(expired).to.have.length(1);
      expect(expired[0]!.task).to.include({ state: 'pending', workerId: 'worker-a' });
      expect(expired[0]!.task.lockExpirationTime?.getTime()).to.equal(START + LOCK);
      expect(await bed.changeTypes(held.id)).to.deep.equal(['created', 'locked', 'lockExpired', 'locked']);
      const [, , , locked] = (await bed.changes()).filter((change) => change.task.id === held.id);
      expect(locked!.task).to.deep.equal(claimed[0]);
      await bed.claim('worker-c', 1, topic);
      await bed.repository.msUntilNextAvailable([topic]);
      await bed.repository.countByTopic([topic]);
      expect(await bed.changesOf('lockExpired', held.id)).to.have.length(1);
    });

    it('is not announced by msUntilNextAvailable or countByTopic: only by the claim that takes the task over', async () => {
      const topic = bed.freshTopic();
      const held = await bed.createHeld('worker-a', { topic });
      bed.clock.advance(LOCK + 10);
      await bed.expectNoChange(() => bed.repository.msUntilNextAvailable([topic]));
      await bed.expectNoChange(() => bed.repository.countByTopic([topic]));
      await bed.expectNoChange(() => bed.repository.countByTopic());
      expect(await bed.changesOf('lockExpired', held.id)).to.deep.equal([]);

      await bed.claim('worker-b', 1, topic);
      const expired = await bed.changesOf('lockExpired', held.id);
      expect(expired).to.have.length(1);
      expect(expired[0]!.task.workerId).to.equal('worker-a');
    });

    it('is not announced before the lock runs out', async () => {
      const topic = bed.freshTopic();
      await bed.createHeld('worker-a', { topic });
      bed.clock.advance(LOCK - 1);
      await bed.claim('worker-b', 1, topic);
      await bed.repository.msUntilNextAvailable([topic]);
      await bed.repository.countByTopic([topic]);
      expect(await bed.changesOf('lockExpired')).to.deep.equal([]);
    });

    it('is not announced for a task given back, finished or retried before its lock ran out, nor when a retry comes due', async () => {
      const topic = bed.freshTopic();
      const unlocked = await bed.createHeld('worker-a', { topic });
      await bed.unlock(unlocked.id, 'worker-a');
      const finished = await bed.createHeld('worker-a', { topic });
      await bed.finish(finished.id, 'worker-a');
      const retried = await bed.createHeld('worker-a', { topic });
      await bed.failService(retried.id, 'worker-a', { retries: 1, retryTimeout: 10 });
      bed.clock.advance(LOCK * 3);
      await bed.repository.countByTopic([topic]);
      await bed.repository.msUntilNextAvailable([topic]);
      await bed.claim('worker-b', 10, topic);
      expect(await bed.changesOf('lockExpired')).to.deep.equal([]);
    });

    it('is announced again for a new lock that runs out in turn', async () => {
      const topic = bed.freshTopic();
      const held = await bed.createHeld('worker-a', { topic });
      bed.clock.advance(LOCK);
      await bed.claim('worker-b', 1, topic);
      bed.clock.advance(LOCK);
      await bed.claim('worker-c', 1, topic);
      const expired = await bed.changesOf('lockExpired', held.id);
      expect(expired.map((change) => change.task.workerId)).to.deep.equal(['worker-a', 'worker-b']);
    });

    it("announces 'retryDue' from the claim that takes a due retry, before its 'locked'", async () => {
      const topic = bed.freshTopic();
      const held = await bed.createHeld('worker-a', { topic, retries: 2 });
      await bed.failService(held.id, 'worker-a', { retries: 1, retryTimeout: 300 });
      bed.clock.advance(300);
      await bed.expectNoChange(() => bed.repository.countByTopic([topic]));
      await bed.expectNoChange(() => bed.repository.msUntilNextAvailable([topic]));

      const [claimed] = await bed.claim('worker-b', 1, topic);

      expect(await bed.changeTypes(held.id)).to.deep.equal(['retryDue', 'locked']);
      const [due] = await bed.changesOf('retryDue', held.id);
      expect(due!.task).to.include({ state: 'pending', retries: 1 });
      expect(due!.task.retryAt?.getTime()).to.equal(START + 300);
      expect((await bed.changesOf('locked', held.id))[0]!.task).to.deep.equal(claimed);
    });

    it('announces a takeover before the locked change of the same task, for each task the claim takes', async () => {
      const topic = bed.freshTopic();
      const first = await bed.createHeld('worker-a', { topic, priority: 2 });
      const second = await bed.createHeld('worker-a', { topic, priority: 1, retries: 1 });
      await bed.failService(second.id, 'worker-a', { retries: 1, retryTimeout: 10 });
      bed.clock.advance(LOCK);
      await bed.forgetChanges();

      expect(ids(await bed.claim('worker-b', 10, topic))).to.deep.equal(ids([first, second]));

      expect(await bed.changes()).to.have.length(4);
      expect(await bed.changeTypes(first.id)).to.deep.equal(['lockExpired', 'locked']);
      expect(await bed.changeTypes(second.id)).to.deep.equal(['retryDue', 'locked']);
    });

    it('announces no takeover for an expired task or due retry that the claim does not take', async () => {
      const topic = bed.freshTopic();
      const taken = await bed.createHeld('worker-a', { topic, priority: 3 });
      const expired = await bed.createHeld('worker-a', { topic, priority: 2 });
      const retried = await bed.createHeld('worker-a', { topic, priority: 1 });
      await bed.failService(retried.id, 'worker-a', { retries: 1, retryTimeout: 10 });
      bed.clock.advance(LOCK);
      await bed.forgetChanges();

      expect(ids(await bed.claim('worker-b', 1, topic))).to.deep.equal([taken.id]);

      expect(await bed.changeTypes(taken.id)).to.deep.equal(['lockExpired', 'locked']);
      expect(await bed.changeTypes(expired.id)).to.deep.equal([]);
      expect(await bed.changeTypes(retried.id)).to.deep.equal([]);
      expect((await bed.current(expired.id)).workerId).to.equal('worker-a');
    });
  });

  describe('claim when the clock steps back', () => {
    it('does not hand a held task to a second worker once the clock is back before the expiry, even after a read saw it expired', async () => {
      const task = await bed.create();
      await bed.claim('first', 1, [topicClaim(TOPIC, 1000)]);
      bed.clock.advance(1500);
      expect((await bed.countsOf(TOPIC)).available).to.equal(1);
      expect(await bed.repository.msUntilNextAvailable([TOPIC])).to.equal(0);

      bed.clock.set(START + 500);

      expect(await bed.claim('second', 1)).to.deep.equal([]);
      const record = await bed.current(task.id);
      expect(record.workerId).to.equal('first');
      expect(record.lockExpirationTime?.getTime()).to.equal(START + 1000);
      expect((await bed.countsOf(TOPIC)).locked).to.equal(1);
      expect(await bed.changesOf('lockExpired')).to.deep.equal([]);
    });

    it('judges a due retry a claim left behind by the time now: not handed out early, counted as retrying', async () => {
      const retried = await bed.create({ tenantId: 'a' });
      await bed.claim('first', 1, [topicClaim(TOPIC, 1000)]);
      await bed.failService(retried.id, 'first', { retries: 1, retryTimeout: 1000 });
      const urgent = await bed.create({ tenantId: 'a', priority: 5 });
      bed.clock.advance(1500);
      // This claim sees the retry due but takes only the more urgent task.
      expect(ids(await bed.claim('second', 1, [topicClaim(TOPIC, 60_000)]))).to.deep.equal([urgent.id]);

      bed.clock.set(START + 500);

      const counts = await bed.countsOf(TOPIC);
      expect({ available: counts.available, locked: counts.locked, retrying: counts.retrying }).to.deep.equal(
        {
          available: 0,
          locked: 1,
          retrying: 1,
        },
      );
      const byTenant = (await bed.repository.countByTopic({ tenantId: 'a' }))[0];
      expect({
        available: byTenant?.available,
        locked: byTenant?.locked,
        retrying: byTenant?.retrying,
      }).to.deep.equal({ available: 0, locked: 1, retrying: 1 });
      expect(await bed.repository.msUntilNextAvailable([TOPIC])).to.equal(500);
      expect(await bed.claim('third', 5, [topicClaim(TOPIC, 60_000)])).to.deep.equal([]);
      bed.clock.set(START + 1000);
      expect(ids(await bed.claim('third', 5, [topicClaim(TOPIC, 60_000)]))).to.deep.equal([retried.id]);
    });
  });
}
