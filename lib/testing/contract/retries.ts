import { expect } from 'chai';
import { LOCK, serviceError, START, TOPIC, UNKNOWN_ID } from './case-inputs.js';
import type { ContractBed } from './contract-bed.js';
import { expectBadRequest, expectGivenBack, ids, taskOf } from './expectations.js';

/** Service failures with retries, incidents, and setRetries. */
export function describeRetries(bed: ContractBed): void {
  describe('service failures with retries', () => {
    it('keeps the task pending, unlocked, with the new budget, the due time and the last error', async () => {
      const held = await bed.createHeld('worker-a', { retries: 5 });
      bed.clock.advance(100);
      const result = await bed.failService(held.id, 'worker-a', { retries: 4, retryTimeout: 3000 });
      expect(result.status).to.equal('ok');
      for (const task of [taskOf(result), await bed.current(held.id)]) {
        expectGivenBack(task);
        expect(task).to.not.have.property('incident');
        expect(task.retries).to.equal(4);
        expect(task.attempts).to.equal(1);
        expect(task.retryAt).to.deep.equal(new Date(START + 100 + 3000));
        expect(task.error).to.deep.equal(serviceError);
      }
    });

    it("announces 'retryScheduled' (not 'failed') with the record after the change and the error", async () => {
      const held = await bed.createHeld();
      await bed.failService(held.id, 'worker-a', { retries: 2, retryTimeout: 500 });
      expect(await bed.changeTypes(held.id)).to.deep.equal(['created', 'locked', 'retryScheduled']);
      const [change] = await bed.changesOf('retryScheduled', held.id);
      expect(change!.task).to.include({ state: 'pending', retries: 2 });
      expect(change!.task.retryAt).to.deep.equal(new Date(START + 500));
      expect(change!.task).to.not.have.property('workerId');
      expect(change!.error).to.deep.equal(serviceError);
    });

    it('is not claimable before retryAt and is claimable from retryAt on; the claim clears retryAt', async () => {
      const held = await bed.createHeld('worker-a', { topic: TOPIC });
      await bed.failService(held.id, 'worker-a', { retries: 2, retryTimeout: 3000 });
      expect(await bed.claim('worker-b')).to.deep.equal([]);
      bed.clock.advance(2999);
      expect(await bed.claim('worker-b')).to.deep.equal([]);
      bed.clock.advance(1);
      const claimed = await bed.claim('worker-b');
      expect(ids(claimed)).to.deep.equal([held.id]);
      expect(claimed[0]).to.include({ workerId: 'worker-b', retries: 2 });
      expect(claimed[0]).to.not.have.property('retryAt');
      expect(await bed.current(held.id)).to.not.have.property('retryAt');
      expect(claimed[0]!.lockExpirationTime).to.deep.equal(new Date(START + 3000 + LOCK));
    });

    it('is claimable at once with a retryTimeout of 0', async () => {
      const topic = bed.freshTopic();
      const held = await bed.createHeld('worker-a', { topic });
      await bed.failService(held.id, 'worker-a', { retries: 1, retryTimeout: 0 });
      expect(ids(await bed.claim('worker-a', 1, topic))).to.deep.equal([held.id]);
    });

    it("answers 'locked' to the old holder's extend, complete and unlock once the retry is scheduled", async () => {
      const held = await bed.createHeld();
      await bed.failService(held.id, 'worker-a', { retries: 2, retryTimeout: 3000 });
      await bed.forgetChanges();
      expect((await bed.extend(held.id, 'worker-a')).status).to.equal('locked');
      expect((await bed.finish(held.id, 'worker-a')).status).to.equal('locked');
      expect((await bed.failService(held.id, 'worker-a', { retries: 1, retryTimeout: 10 })).status).to.equal(
        'locked',
      );
      expect((await bed.unlock(held.id, 'worker-a')).status).to.equal('locked');
      expect(await bed.changes()).to.deep.equal([]);
      const task = await bed.current(held.id);
      expect(task).to.include({ state: 'pending', retries: 2 });
      expect(task.retryAt).to.deep.equal(new Date(START + 3000));
    });

    it("answers 'locked' to the old holder once another worker claimed the due retry", async () => {
      const held = await bed.createHeld('worker-a', { topic: TOPIC });
      await bed.failService(held.id, 'worker-a', { retries: 2, retryTimeout: 100 });
      bed.clock.advance(100);
      expect(ids(await bed.claim('worker-b'))).to.deep.equal([held.id]);
      const result = await bed.finish(held.id, 'worker-a');
      expect(result.status).to.equal('locked');
      expect(taskOf(result).workerId).to.equal('worker-b');
      expect((await bed.finish(held.id, 'worker-b')).status).to.equal('ok');
    });

    it("fails with an incident when the retries given are 0, announced as 'failed'", async () => {
      const held = await bed.createHeld('worker-a', { retries: 1 });
      bed.clock.advance(250);
      const result = await bed.failService(held.id, 'worker-a', { retries: 0, retryTimeout: 1000 });
      expect(result.status).to.equal('ok');
      for (const task of [taskOf(result), await bed.current(held.id)]) {
        expect(task).to.include({ state: 'failed', incident: true, retries: 0 });
        expect(task.finishedAt).to.deep.equal(new Date(START + 250));
        expect(task.error).to.deep.equal(serviceError);
        expect(task).to.not.have.property('lockExpirationTime');
        expect(task).to.not.have.property('retryAt');
      }
      expect(await bed.changeTypes(held.id)).to.deep.equal(['created', 'locked', 'failed']);
      const [failed] = await bed.changesOf('failed', held.id);
      expect(failed!.task).to.include({ incident: true });
      expect(failed!.incident).to.equal(true);
      expect(failed!.error).to.deep.equal(serviceError);
      bed.clock.advance(5000);
      expect(await bed.claim('worker-b', 10, held.topic)).to.deep.equal([]);
    });

    it('fails with an incident when the retries given are 0 even on a task created without a budget', async () => {
      const held = await bed.createHeld();
      const result = await bed.failService(held.id, 'worker-a', { retries: 0, retryTimeout: 0 });
      expect(taskOf(result)).to.include({ state: 'failed', incident: true, retries: 0 });
    });

    it('fails with an incident on a service failure without retry when the task was created with a budget', async () => {
      const held = await bed.createHeld('worker-a', { retries: 3 });
      const result = await bed.failService(held.id, 'worker-a');
      expect(result.status).to.equal('ok');
      expect(taskOf(result)).to.include({ state: 'failed', incident: true });
      expect(await bed.current(held.id)).to.include({ state: 'failed', incident: true });
    });

    it('fails with an incident on a service failure without retry when the task was created with a budget of 0', async () => {
      const held = await bed.createHeld('worker-a', { retries: 0 });
      expect(taskOf(await bed.failService(held.id, 'worker-a'))).to.include({
        state: 'failed',
        incident: true,
      });
    });

    it('fails with an incident on a service failure without retry after an earlier retry set a budget', async () => {
      const held = await bed.createHeld('worker-a', { topic: TOPIC });
      await bed.failService(held.id, 'worker-a', { retries: 1, retryTimeout: 10 });
      bed.clock.advance(10);
      expect(ids(await bed.claim('worker-b'))).to.deep.equal([held.id]);
      const result = await bed.failService(held.id, 'worker-b');
      expect(taskOf(result)).to.include({ state: 'failed', incident: true });
    });

    it('fails without an incident field on a service failure without retry when the task has no budget', async () => {
      const held = await bed.createHeld();
      const result = await bed.failService(held.id, 'worker-a');
      expect(result.status).to.equal('ok');
      for (const task of [taskOf(result), await bed.current(held.id)]) {
        expect(task.state).to.equal('failed');
        expect(task).to.not.have.property('incident');
        expect(task.error).to.deep.equal(serviceError);
      }
      expect((await bed.changesOf('failed', held.id))[0]!.incident).to.equal(false);
    });

    it('never makes a BPMN failure an incident, even on a task with a retry budget', async () => {
      const held = await bed.createHeld('worker-a', { retries: 3 });
      const result = await bed.failBpmn(held.id, 'worker-a');
      expect(result.status).to.equal('ok');
      for (const task of [taskOf(result), await bed.current(held.id)]) {
        expect(task.state).to.equal('failed');
        expect(task.incident).to.not.equal(true);
      }
      expect((await bed.changesOf('failed', held.id))[0]!.incident).to.equal(false);
      await bed.expectCounts(held.topic, { failed: 1, bpmnErrors: 1 });
      expect(ids((await bed.repository.query({ topic: held.topic, incident: true })).tasks)).to.deep.equal(
        [],
      );
    });

    it('lets the next holder schedule another retry with a lower budget', async () => {
      const topic = bed.freshTopic();
      const held = await bed.createHeld('worker-a', { topic, retries: 3 });
      await bed.failService(held.id, 'worker-a', { retries: 2, retryTimeout: 100 });
      bed.clock.advance(100);
      expect(ids(await bed.claim('worker-b', 1, topic))).to.deep.equal([held.id]);
      bed.clock.advance(50);
      const result = await bed.failService(held.id, 'worker-b', { retries: 1, retryTimeout: 200 });
      expect(taskOf(result)).to.include({ state: 'pending', retries: 1, attempts: 2 });
      expect(taskOf(result).retryAt).to.deep.equal(new Date(START + 150 + 200));
      expect(await bed.changesOf('retryScheduled', held.id)).to.have.length(2);
    });
  });

  describe('setRetries', () => {
    it("answers 'not-found' for an unknown task", async () => {
      expect(await bed.repository.setRetries(UNKNOWN_ID, 3)).to.deep.equal({ status: 'not-found' });
      expect(await bed.changes()).to.deep.equal([]);
    });

    it("replaces the budget of a pending task, announced 'retriesSet'", async () => {
      const task = await bed.create({ retries: 1 });
      const result = await bed.repository.setRetries(task.id, 7);
      expect(result.status).to.equal('ok');
      expect(taskOf(result)).to.include({ id: task.id, state: 'pending', retries: 7 });
      expect((await bed.current(task.id)).retries).to.equal(7);
      expect(await bed.changeTypes(task.id)).to.deep.equal(['created', 'retriesSet']);
      expect((await bed.changesOf('retriesSet', task.id))[0]!.task).to.deep.equal(taskOf(result));
    });

    it('gives a budget to a pending task that had none, and may set it to 0', async () => {
      const task = await bed.create();
      expect(taskOf(await bed.repository.setRetries(task.id, 2)).retries).to.equal(2);
      expect(taskOf(await bed.repository.setRetries(task.id, 0)).retries).to.equal(0);
      expect(await bed.current(task.id)).to.include({ state: 'pending', retries: 0 });
    });

    it("leaves a locked task's lock alone", async () => {
      const held = await bed.createHeld();
      const updated = taskOf(await bed.repository.setRetries(held.id, 4));
      expect(updated.workerId).to.equal('worker-a');
      expect(updated.lockExpirationTime).to.deep.equal(held.lockExpirationTime);
      expect(updated.attempts).to.equal(1);
      expect((await bed.finish(held.id, 'worker-a')).status).to.equal('ok');
    });

    it('brings an incident back to pending, available at once, without incident and finishedAt', async () => {
      const topic = bed.freshTopic();
      const held = await bed.createHeld('worker-a', { topic, retries: 1 });
      await bed.failService(held.id, 'worker-a', { retries: 0, retryTimeout: 0 });
      bed.clock.advance(500);
      const revived = taskOf(await bed.repository.setRetries(held.id, 3));
      for (const task of [revived, await bed.current(held.id)]) {
        expect(task).to.include({ state: 'pending', retries: 3 });
        expect(task).to.not.have.property('incident');
        expect(task).to.not.have.property('finishedAt');
        expect(task).to.not.have.property('lockExpirationTime');
        expect(task).to.not.have.property('retryAt');
      }
      expect(await bed.changeTypes(held.id)).to.deep.equal(['created', 'locked', 'failed', 'retriesSet']);
      expect((await bed.changesOf('retriesSet', held.id))[0]!.task.state).to.equal('pending');
      expect(await bed.repository.msUntilNextAvailable([topic])).to.equal(0);
      const claimed = await bed.claim('worker-b', 1, topic);
      expect(ids(claimed)).to.deep.equal([held.id]);
      expect(claimed[0]!.workerId).to.equal('worker-b');
      expect(claimed[0]!.attempts).to.equal(2);
    });

    it('leaves an incident failed when the retries set are 0', async () => {
      const topic = bed.freshTopic();
      const held = await bed.createHeld('worker-a', { topic, retries: 2 });
      await bed.failService(held.id, 'worker-a');
      const result = await bed.repository.setRetries(held.id, 0);
      expect(result.status).to.equal('ok');
      expect(taskOf(result)).to.include({ state: 'failed', incident: true });
      expect(await bed.current(held.id)).to.include({ state: 'failed', incident: true });
      expect(await bed.claim('worker-b', 1, topic)).to.deep.equal([]);
      await bed.expectCounts(topic, { failed: 1, serviceErrors: 1, incidents: 1 });
    });

    it("answers 'gone' with the record for a finished task", async () => {
      const held = await bed.createHeld();
      await bed.finish(held.id, 'worker-a');
      const result = await bed.repository.setRetries(held.id, 3);
      expect(result.status).to.equal('gone');
      expect(taskOf(result)).to.include({ id: held.id, state: 'finished' });
      expect((await bed.current(held.id)).state).to.equal('finished');
    });

    it("answers 'gone' with the record for a cancelled task, which shows it was cancelled", async () => {
      const task = await bed.create();
      await bed.repository.cancel({ externalTaskId: task.id });
      const result = await bed.repository.setRetries(task.id, 3);
      expect(result.status).to.equal('gone');
      expect(taskOf(result)).to.include({ id: task.id, state: 'cancelled' });
      expect((await bed.current(task.id)).state).to.equal('cancelled');
    });

    it("answers 'gone' for a BPMN failure (not an incident)", async () => {
      const held = await bed.createHeld('worker-a', { retries: 2 });
      await bed.failBpmn(held.id, 'worker-a');
      const result = await bed.repository.setRetries(held.id, 3);
      expect(result.status).to.equal('gone');
      expect(taskOf(result)).to.include({ id: held.id, state: 'failed' });
      expect((await bed.current(held.id)).state).to.equal('failed');
    });

    it("answers 'gone' for a service failure on a task without budget (not an incident)", async () => {
      const held = await bed.createHeld();
      await bed.failService(held.id, 'worker-a');
      await bed.forgetChanges();
      const result = await bed.repository.setRetries(held.id, 3);
      expect(result.status).to.equal('gone');
      expect(taskOf(result)).to.include({ id: held.id, state: 'failed' });
      expect((await bed.current(held.id)).state).to.equal('failed');
      expect(await bed.changes()).to.deep.equal([]);
    });

    for (const [label, value] of [
      ['a negative number', -1],
      ['more than 1,000,000', 1_000_001],
      ['a fraction', 2.5],
      ['a numeric string', '2'],
      ['NaN', Number.NaN],
    ] as const) {
      it(`refuses ${label} with a BadRequestError naming 'retries', changing nothing`, async () => {
        const task = await bed.create({ retries: 1 });
        await expectBadRequest(bed.repository.setRetries(task.id, value as unknown as number), 'retries');
        expect((await bed.current(task.id)).retries).to.equal(1);
        expect(await bed.changesOf('retriesSet')).to.deep.equal([]);
      });
    }

    it("refuses an empty id with a BadRequestError naming 'externalTaskId'", async () => {
      await expectBadRequest(bed.repository.setRetries('', 1), 'externalTaskId');
    });
  });
}
