import { expect } from 'chai';
import { LOCK, START, UNKNOWN_ID } from './case-inputs.js';
import type { ContractBed } from './contract-bed.js';
import { expectGivenBack, ids, taskOf } from './expectations.js';

/** unlock: the holder gives its task back without an outcome. */
export function describeUnlock(bed: ContractBed): void {
  describe('unlock', () => {
    it("gives the holder's task back: pending, no worker, no lock, announced 'unlocked'", async () => {
      const held = await bed.createHeld();
      bed.clock.advance(10);
      const result = await bed.unlock(held.id, 'worker-a');
      expect(result.status).to.equal('ok');
      for (const task of [taskOf(result), await bed.current(held.id)]) expectGivenBack(task);
      expect(await bed.changeTypes(held.id)).to.deep.equal(['created', 'locked', 'unlocked']);
      expect((await bed.changesOf('unlocked', held.id))[0]!.task).to.not.have.property('workerId');
    });

    it('makes the task claimable at once, although its lock had not expired', async () => {
      const topic = bed.freshTopic();
      const held = await bed.createHeld('worker-a', { topic }, 60_000);
      await bed.unlock(held.id, 'worker-a');
      const claimed = await bed.claim('worker-b', 1, topic);
      expect(ids(claimed)).to.deep.equal([held.id]);
      expect(claimed[0]!.workerId).to.equal('worker-b');
      await bed.expectNextAvailableAt([topic], START + LOCK);
    });

    it("answers 'locked' to the former holder's extend and complete after unlocking", async () => {
      const held = await bed.createHeld();
      await bed.unlock(held.id, 'worker-a');
      expect((await bed.extend(held.id, 'worker-a')).status).to.equal('locked');
      expect((await bed.finish(held.id, 'worker-a')).status).to.equal('locked');
      expect((await bed.unlock(held.id, 'worker-a')).status).to.equal('locked');
      expect((await bed.current(held.id)).state).to.equal('pending');
    });

    it('lets the holder unlock a task whose lock expired unnoticed', async () => {
      const held = await bed.createHeld();
      bed.clock.advance(LOCK * 5);
      const result = await bed.unlock(held.id, 'worker-a');
      expect(result.status).to.equal('ok');
      expect(taskOf(result)).to.not.have.property('workerId');
    });

    it("answers 'locked' to another worker and changes nothing", async () => {
      const held = await bed.createHeld('worker-a');
      await bed.forgetChanges();
      const result = await bed.unlock(held.id, 'worker-b');
      expect(result.status).to.equal('locked');
      expect(taskOf(result)).to.include({ workerId: 'worker-a' });
      const task = await bed.current(held.id);
      expect(task.workerId).to.equal('worker-a');
      expect(task.lockExpirationTime).to.deep.equal(held.lockExpirationTime);
      expect(await bed.changes()).to.deep.equal([]);
      expect(await bed.claim('worker-b', 1, held.topic)).to.deep.equal([]);
    });

    it("answers 'locked' on a task nobody has locked", async () => {
      const task = await bed.create();
      expect((await bed.unlock(task.id, 'worker-a')).status).to.equal('locked');
    });

    it("answers 'not-found' for an unknown task", async () => {
      expect(await bed.unlock(UNKNOWN_ID, 'worker-a')).to.deep.equal({ status: 'not-found' });
    });

    it("answers 'gone' with the record for a finished task", async () => {
      const held = await bed.createHeld();
      await bed.finish(held.id, 'worker-a');
      const result = await bed.unlock(held.id, 'worker-a');
      expect(result.status).to.equal('gone');
      expect(taskOf(result).state).to.equal('finished');
    });

    it("answers 'gone' with the record for a failed task", async () => {
      const held = await bed.createHeld();
      await bed.failBpmn(held.id, 'worker-a');
      const result = await bed.unlock(held.id, 'worker-a');
      expect(result.status).to.equal('gone');
      expect(taskOf(result).state).to.equal('failed');
    });
  });
}
