import { expect } from 'chai';
import {
  bpmnError,
  expectGivenBack,
  ids,
  LOCK,
  START,
  taskOf,
  UNKNOWN_ID,
  type ContractBed,
} from './contract-bed.js';

/** The conditional writes of a held task: extendLock, complete, unlock. */
export function describeWrites(bed: ContractBed): void {
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

  describe('complete', () => {
    it('marks a held task finished with its result and finishedAt = now, and drops the lock', async () => {
      const task = await bed.create();
      await bed.claim('worker', 1);
      bed.clock.advance(250);

      const result = await bed.finish(task.id, 'worker', { invoice: 'INV-1', total: 42 });

      expect(result.status).to.equal('ok');
      const finished = taskOf(result);
      expect(finished.state).to.equal('finished');
      expect(finished.result).to.deep.equal({ invoice: 'INV-1', total: 42 });
      expect(finished.finishedAt?.getTime()).to.equal(START + 250);
      expect(finished.workerId).to.equal('worker');
      expect(finished.lockExpirationTime).to.be.undefined;
      expect(finished.error).to.be.undefined;
      expect(await bed.repository.getById(task.id)).to.deep.equal(finished);
    });

    it('marks a held task finished without a result', async () => {
      const task = await bed.create();
      await bed.claim('worker', 1);

      const finished = taskOf(await bed.finish(task.id, 'worker'));

      expect(finished.state).to.equal('finished');
      expect(finished.result).to.be.undefined;
    });

    it('marks a held task failed with a BPMN error', async () => {
      const task = await bed.create();
      await bed.claim('worker', 1);
      bed.clock.advance(40);

      const result = await bed.failBpmn(task.id, 'worker');

      expect(result.status).to.equal('ok');
      const failed = taskOf(result);
      expect(failed.state).to.equal('failed');
      expect(failed.error).to.deep.equal({ type: 'bpmn', errorCode: 'E-42', errorMessage: 'no stock' });
      expect(failed.finishedAt?.getTime()).to.equal(START + 40);
      expect(failed.result).to.be.undefined;
      expect(failed.lockExpirationTime).to.be.undefined;
      expect(await bed.repository.getById(task.id)).to.deep.equal(failed);
    });

    it('marks a held task failed with a service error and its details', async () => {
      const task = await bed.create();
      await bed.claim('worker', 1);

      const result = await bed.repository.complete({
        externalTaskId: task.id,
        workerId: 'worker',
        outcome: {
          state: 'failed',
          error: { type: 'service', errorMessage: 'timeout', errorDetails: { attempts: 3 } },
        },
      });

      expect(taskOf(result).error).to.deep.equal({
        type: 'service',
        errorMessage: 'timeout',
        errorDetails: { attempts: 3 },
      });
    });

    it("announces 'finished' with its result and 'failed' with its error and whether it is an incident", async () => {
      const finishedTask = await bed.create();
      const failedTask = await bed.create();
      await bed.claim('worker', 2);
      await bed.forgetChanges();

      const finished = taskOf(await bed.finish(finishedTask.id, 'worker', { total: 42 }));
      const failed = taskOf(await bed.failBpmn(failedTask.id, 'worker'));

      const changes = await bed.changes();
      expect(changes).to.have.length(2);
      expect(changes[0]).to.deep.include({ type: 'finished', task: finished, result: { total: 42 } });
      expect(changes[1]).to.deep.include({ type: 'failed', task: failed, error: bpmnError, incident: false });
    });

    it('never hands out a finished or failed task again', async () => {
      const finished = await bed.create();
      const failed = await bed.create();
      const pending = await bed.create();
      await bed.claim('worker', 2);
      await bed.finish(finished.id, 'worker');
      await bed.failBpmn(failed.id, 'worker');
      bed.clock.advance(24 * 60 * 60 * 1000);

      expect(ids(await bed.claim('other', 10))).to.deep.equal([pending.id]);
      bed.clock.advance(24 * 60 * 60 * 1000);
      expect(ids(await bed.claim('other', 10))).to.deep.equal([pending.id]);
    });

    it('answers gone to a second outcome, keeping the first', async () => {
      const task = await bed.create();
      await bed.claim('worker', 1);
      await bed.finish(task.id, 'worker', 'first');
      await bed.forgetChanges();

      const result = await bed.failBpmn(task.id, 'worker');

      expect(result.status).to.equal('gone');
      expect(taskOf(result).state).to.equal('finished');
      expect(taskOf(result).result).to.equal('first');
      expect(await bed.changes()).to.deep.equal([]);
    });

    it('answers not-found for an unknown task', async () => {
      expect(await bed.finish(UNKNOWN_ID, 'worker')).to.deep.equal({ status: 'not-found' });
    });

    it('answers locked, changing nothing, when another worker holds the lock', async () => {
      const task = await bed.create();
      await bed.claim('holder', 1);

      const result = await bed.finish(task.id, 'intruder', 'stolen');

      expect(result.status).to.equal('locked');
      expect(taskOf(result).workerId).to.equal('holder');
      expect((await bed.repository.getById(task.id))?.state).to.equal('pending');
    });

    it('answers locked for a task nobody has locked', async () => {
      const task = await bed.create();

      const result = await bed.finish(task.id, 'worker');

      expect(result.status).to.equal('locked');
      expect(taskOf(result).state).to.equal('pending');
      expect(taskOf(result).workerId).to.be.undefined;
    });

    it('lets a worker whose lock expired, and whom nobody replaced, still finish it', async () => {
      const task = await bed.create();
      await bed.claim('worker', 1);
      bed.clock.advance(60_000);

      const result = await bed.finish(task.id, 'worker', 'late but done');

      expect(result.status).to.equal('ok');
      expect(taskOf(result).state).to.equal('finished');
      expect(await bed.claim('other', 1)).to.deep.equal([]);
    });

    it('answers locked to the first worker once another worker has claimed the expired task', async () => {
      const task = await bed.create();
      await bed.claim('first', 1);
      bed.clock.advance(1000);
      await bed.claim('second', 1);

      const result = await bed.finish(task.id, 'first', 'too late');

      expect(result.status).to.equal('locked');
      expect(taskOf(result).workerId).to.equal('second');
      expect((await bed.finish(task.id, 'second', 'mine')).status).to.equal('ok');
    });

    it('lets exactly one of many concurrent outcomes win; the others get gone', async () => {
      const task = await bed.create();
      await bed.claim('worker', 1);
      await bed.forgetChanges();

      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          i % 2 === 0 ? bed.finish(task.id, 'worker', i) : bed.failBpmn(task.id, 'worker'),
        ),
      );

      const statuses = results.map((result) => result.status);
      expect(statuses.filter((status) => status === 'ok')).to.have.length(1);
      expect(statuses.filter((status) => status === 'gone')).to.have.length(19);
      const winner = taskOf(results.find((result) => result.status === 'ok')!);
      expect(await bed.repository.getById(task.id)).to.deep.equal(winner);
      expect(await bed.changes()).to.have.length(1);
    });
  });

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

  describe('writes that did not happen', () => {
    it('announces nothing for writes that did not happen', async () => {
      const task = await bed.create();
      await bed.claim('holder', 1);
      await bed.forgetChanges();
      const before = await bed.repository.currentPosition();

      await bed.extend(task.id, 'intruder', 1000);
      await bed.finish(task.id, 'intruder');
      await bed.unlock(task.id, 'intruder');
      await bed.extend(UNKNOWN_ID, 'holder', 1000);
      await bed.claim('other', 10);

      expect(await bed.changes()).to.deep.equal([]);
      expect(await bed.repository.currentPosition()).to.equal(before);
    });
  });
}
