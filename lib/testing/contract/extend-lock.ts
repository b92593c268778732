import { expect } from 'chai';
import { START, UNKNOWN_ID } from './case-inputs.js';
import type { ContractBed } from './contract-bed.js';
import { ids, taskOf } from './expectations.js';

/** extendLock: the holder moves its lock; everyone else is answered why not. */
export function describeExtendLock(bed: ContractBed): void {
  describe('extendLock', () => {
    it('sets the lock to now + lockDuration, counted from now, even when shorter than before', async () => {
      const task = await bed.create();
      await bed.claim('worker', 1, [{ topicName: task.topic, lockDuration: 10_000 }]);
      bed.clock.advance(3000);

      const result = await bed.extend(task.id, 'worker', 500);

      expect(result.status).to.equal('ok');
      expect(taskOf(result).lockExpirationTime?.getTime()).to.equal(START + 3500);
      expect(taskOf(result).workerId).to.equal('worker');
      expect((await bed.repository.getById(task.id))?.lockExpirationTime?.getTime()).to.equal(START + 3500);
      bed.clock.advance(499);
      expect(await bed.claim('other', 1)).to.deep.equal([]);
      bed.clock.advance(1);
      expect(ids(await bed.claim('other', 1))).to.deep.equal([task.id]);
    });

    it('extends a lock beyond its original expiry', async () => {
      const task = await bed.create();
      await bed.claim('worker', 1);
      bed.clock.advance(900);
      await bed.extend(task.id, 'worker', 5000);
      bed.clock.advance(1000);

      expect(await bed.claim('other', 1)).to.deep.equal([]);
    });

    it("announces 'extended' with the record after the change", async () => {
      const task = await bed.create();
      await bed.claim('worker', 1);
      bed.clock.advance(10);
      await bed.forgetChanges();

      const extended = taskOf(await bed.extend(task.id, 'worker', 2000));

      const changes = await bed.changes();
      expect(changes.map((change) => [change.type, change.task])).to.deep.equal([['extended', extended]]);
      expect(changes[0]!.task.lockExpirationTime?.getTime()).to.equal(START + 2010);
    });

    it('answers not-found for an unknown task', async () => {
      expect(await bed.extend(UNKNOWN_ID, 'worker', 1000)).to.deep.equal({ status: 'not-found' });
    });

    it('answers gone, with the record, for a finished task', async () => {
      const task = await bed.create();
      await bed.claim('worker', 1);
      await bed.finish(task.id, 'worker', 'done');

      const result = await bed.extend(task.id, 'worker', 1000);

      expect(result.status).to.equal('gone');
      expect(taskOf(result).state).to.equal('finished');
    });

    it('answers gone, with the record, for a failed task', async () => {
      const task = await bed.create();
      await bed.claim('worker', 1);
      await bed.failBpmn(task.id, 'worker');

      const result = await bed.extend(task.id, 'worker', 1000);

      expect(result.status).to.equal('gone');
      expect(taskOf(result).state).to.equal('failed');
    });

    it('answers locked, showing the holder, when another worker holds the lock', async () => {
      const task = await bed.create();
      await bed.claim('holder', 1);
      await bed.forgetChanges();

      const result = await bed.extend(task.id, 'intruder', 60_000);

      expect(result.status).to.equal('locked');
      expect(taskOf(result).workerId).to.equal('holder');
      expect(taskOf(result).lockExpirationTime?.getTime()).to.equal(START + 1000);
      expect((await bed.repository.getById(task.id))?.lockExpirationTime?.getTime()).to.equal(START + 1000);
      expect(await bed.changes()).to.deep.equal([]);
    });

    it('answers locked, showing no holder, for a task nobody has locked', async () => {
      const task = await bed.create();

      const result = await bed.extend(task.id, 'worker', 1000);

      expect(result.status).to.equal('locked');
      expect(taskOf(result).workerId).to.be.undefined;
      expect(ids(await bed.claim('worker', 1))).to.deep.equal([task.id]);
    });

    it('lets a worker whose lock expired, and whom nobody replaced, still extend it', async () => {
      const task = await bed.create();
      await bed.claim('worker', 1);
      bed.clock.advance(5000);

      const result = await bed.extend(task.id, 'worker', 1000);

      expect(result.status).to.equal('ok');
      expect(taskOf(result).lockExpirationTime?.getTime()).to.equal(START + 6000);
      expect(await bed.changesOf('lockExpired')).to.deep.equal([]);
    });

    it('makes a task whose expired lock was extended unavailable again', async () => {
      const task = await bed.create();
      await bed.claim('worker', 1);
      bed.clock.advance(5000);
      await bed.extend(task.id, 'worker', 1000);

      expect(await bed.claim('other', 10)).to.deep.equal([]);
      bed.clock.advance(1000);
      expect(ids(await bed.claim('other', 10))).to.deep.equal([task.id]);
    });

    it('answers locked to the first worker once another worker has claimed the expired task', async () => {
      const task = await bed.create();
      await bed.claim('first', 1);
      bed.clock.advance(1000);
      await bed.claim('second', 1);

      const result = await bed.extend(task.id, 'first', 1000);

      expect(result.status).to.equal('locked');
      expect(taskOf(result).workerId).to.equal('second');
    });
  });
}
