import { expect } from 'chai';
import { LOCK, START, UNKNOWN_ID } from './case-inputs.js';
import type { ContractBed } from './contract-bed.js';
import { expectBadRequest, expectGivenBack, expectHints, ids, taskOf } from './expectations.js';

/** The operator's controls: forceUnlock, setPriority, setRetries with a retry delay, deleteFinalTasks. */
export function describeEngineControls(bed: ContractBed): void {
  describe('forceUnlock', () => {
    it("takes a held task from its worker: available at once, announced 'unlocked' with a hint", async () => {
      const held = await bed.createHeld('worker-a', {}, 60_000);
      const hints = await bed.hintsOf(async () => {
        const result = await bed.repository.forceUnlock(held.id);
        expect(result.status).to.equal('ok');
        for (const task of [taskOf(result), await bed.current(held.id)]) {
          expectGivenBack(task);
          expect(task.attempts).to.equal(1);
        }
      });
      expectHints(hints[0], [{ topic: held.topic, delay: 0, count: 1 }]);
      expect(await bed.changeTypes(held.id)).to.deep.equal(['created', 'locked', 'unlocked']);
      expect(await bed.repository.msUntilNextAvailable([held.topic])).to.equal(0);
      const claimed = await bed.claim('worker-b', 1, held.topic);
      expect(ids(claimed)).to.deep.equal([held.id]);
      expect(claimed[0]).to.include({ workerId: 'worker-b', attempts: 2 });
    });

    it("answers 'locked' to the old holder afterwards: its outcome is no longer taken", async () => {
      const held = await bed.createHeld();
      await bed.repository.forceUnlock(held.id);
      expect((await bed.finish(held.id, 'worker-a')).status).to.equal('locked');
      expect((await bed.extend(held.id, 'worker-a')).status).to.equal('locked');
      expect((await bed.current(held.id)).state).to.equal('pending');
    });

    it('takes a task whose lock ran out as well', async () => {
      const held = await bed.createHeld();
      bed.clock.advance(LOCK + 1);
      expectGivenBack(taskOf(await bed.repository.forceUnlock(held.id)));
    });

    it("answers 'ok' with the record unchanged, announcing nothing, for a pending task nobody holds", async () => {
      const task = await bed.create();
      await bed.forgetChanges();
      const result = await bed.expectNoChange(() => bed.repository.forceUnlock(task.id));
      expect(result).to.deep.equal({ status: 'ok', task });
    });

    it('leaves a task waiting for a retry waiting', async () => {
      const held = await bed.createHeld();
      await bed.failService(held.id, 'worker-a', { retries: 2, retryTimeout: 5000 });
      const task = taskOf(await bed.repository.forceUnlock(held.id));
      expect(task.retryAt).to.deep.equal(new Date(START + 5000));
      expect(await bed.claim('worker-b', 1, held.topic)).to.deep.equal([]);
    });

    it("answers 'gone' for a final task and 'not-found' for an unknown one", async () => {
      const held = await bed.createHeld();
      await bed.finish(held.id, 'worker-a');
      const gone = await bed.repository.forceUnlock(held.id);
      expect(gone.status).to.equal('gone');
      expect(taskOf(gone)).to.include({ state: 'finished', workerId: 'worker-a' });
      expect(await bed.repository.forceUnlock(UNKNOWN_ID)).to.deep.equal({ status: 'not-found' });
    });

    it("refuses an empty id with a BadRequestError naming 'externalTaskId'", async () => {
      await expectBadRequest(bed.repository.forceUnlock(''), 'externalTaskId');
    });
  });

  describe('setPriority', () => {
    it("moves a pending task in the hand-out order at once, announced 'prioritySet'", async () => {
      const topic = bed.freshTopic();
      const first = await bed.create({ topic, priority: 5 });
      const second = await bed.create({ topic, priority: 1 });
      const result = await bed.repository.setPriority(second.id, 9);
      expect(result.status).to.equal('ok');
      expect(taskOf(result)).to.include({ id: second.id, priority: 9, state: 'pending' });
      expect((await bed.current(second.id)).priority).to.equal(9);
      expect(await bed.changeTypes(second.id)).to.deep.equal(['created', 'prioritySet']);
      expect((await bed.changesOf('prioritySet', second.id))[0]!.task).to.deep.equal(taskOf(result));
      expect(ids(await bed.claim('worker-a', 2, topic))).to.deep.equal(ids([second, first]));
    });

    it('keeps the lock of a held task, and places a task waiting for a retry by its new priority', async () => {
      const topic = bed.freshTopic();
      const held = await bed.createHeld('worker-a', { topic });
      const kept = taskOf(await bed.repository.setPriority(held.id, -3));
      expect(kept).to.include({ workerId: 'worker-a', priority: -3 });
      expect(kept.lockExpirationTime).to.deep.equal(held.lockExpirationTime);
      await bed.failService(held.id, 'worker-a', { retries: 1, retryTimeout: 100 });
      const other = await bed.create({ topic });
      await bed.repository.setPriority(held.id, 4);
      bed.clock.advance(100);
      expect(ids(await bed.claim('worker-b', 2, topic))).to.deep.equal(ids([held, other]));
    });

    it("answers 'gone' for a final task and 'not-found' for an unknown one, changing nothing", async () => {
      const task = await bed.create({ priority: 2 });
      await bed.repository.cancel({ externalTaskId: task.id });
      const gone = await bed.repository.setPriority(task.id, 7);
      expect(gone.status).to.equal('gone');
      expect(taskOf(gone)).to.include({ state: 'cancelled', priority: 2 });
      expect(await bed.repository.setPriority(UNKNOWN_ID, 1)).to.deep.equal({ status: 'not-found' });
      expect(await bed.changesOf('prioritySet')).to.deep.equal([]);
    });

    for (const [label, value] of [
      ['a fraction', 1.5],
      ['an unsafe integer', Number.MAX_SAFE_INTEGER + 1],
      ['a string', '3'],
    ] as const) {
      it(`refuses ${label} with a BadRequestError naming 'priority'`, async () => {
        const task = await bed.create({ priority: 1 });
        await expectBadRequest(bed.repository.setPriority(task.id, value as unknown as number), 'priority');
        expect((await bed.current(task.id)).priority).to.equal(1);
      });
    }
  });

  describe('setRetries with a retryTimeout', () => {
    const incidentOf = async () => {
      const held = await bed.createHeld('worker-a', { retries: 1 });
      await bed.failService(held.id, 'worker-a', { retries: 0, retryTimeout: 0 });
      return held;
    };

    it('revives an incident that becomes available only after the delay, hinted with the delay', async () => {
      const held = await incidentOf();
      bed.clock.advance(100);
      const hints = await bed.hintsOf(async () => {
        const revived = taskOf(await bed.repository.setRetries(held.id, 2, { retryTimeout: 3000 }));
        expect(revived).to.include({ state: 'pending', retries: 2 });
        expect(revived.retryAt).to.deep.equal(new Date(START + 100 + 3000));
        expect(revived).to.not.have.property('workerId');
      });
      expectHints(hints[0], [{ topic: held.topic, delay: 3000 }]);
      expect(await bed.repository.msUntilNextAvailable([held.topic])).to.equal(3000);
      expect(await bed.claim('worker-b', 1, held.topic)).to.deep.equal([]);
      bed.clock.advance(3000);
      expect(ids(await bed.claim('worker-b', 1, held.topic))).to.deep.equal([held.id]);
      expect(await bed.changeTypes(held.id)).to.deep.equal([
        'created',
        'locked',
        'failed',
        'retriesSet',
        'retryDue',
        'locked',
      ]);
    });

    it('puts off a pending task nobody holds, and leaves the lock of a held one alone', async () => {
      const waiting = await bed.create({ topic: bed.freshTopic() });
      expect(
        taskOf(await bed.repository.setRetries(waiting.id, 3, { retryTimeout: 500 })).retryAt,
      ).to.deep.equal(new Date(START + 500));
      expect(await bed.claim('worker-a', 1, waiting.topic)).to.deep.equal([]);
      const held = await bed.createHeld();
      const kept = taskOf(await bed.repository.setRetries(held.id, 3, { retryTimeout: 500 }));
      expect(kept).to.not.have.property('retryAt');
      expect(kept.lockExpirationTime).to.deep.equal(held.lockExpirationTime);
      expect((await bed.finish(held.id, 'worker-a')).status).to.equal('ok');
    });

    it('revives at once without a retryTimeout, as before', async () => {
      const held = await incidentOf();
      const revived = taskOf(await bed.repository.setRetries(held.id, 1, {}));
      expect(revived).to.not.have.property('retryAt');
      expect(await bed.repository.msUntilNextAvailable([held.topic])).to.equal(0);
    });

    for (const [label, value] of [
      ['a negative retryTimeout', -1],
      ['a fractional retryTimeout', 0.5],
      ['a retryTimeout above 2^31-1', 2 ** 31],
    ] as const) {
      it(`refuses ${label} with a BadRequestError naming 'retryTimeout', changing nothing`, async () => {
        const held = await incidentOf();
        await expectBadRequest(
          bed.repository.setRetries(held.id, 1, { retryTimeout: value }),
          'retryTimeout',
        );
        expect(await bed.current(held.id)).to.include({ state: 'failed', incident: true });
      });
    }
  });

  describe('deleteFinalTasks', () => {
    it('deletes the final tasks of a process instance, keeps its pending ones and other instances', async () => {
      const topic = bed.freshTopic();
      const finished = await bed.createHeld('worker-a', { topic, processInstanceId: 'pi-x' });
      await bed.finish(finished.id, 'worker-a');
      const failed = await bed.createHeld('worker-a', { topic, processInstanceId: 'pi-x' });
      await bed.failBpmn(failed.id, 'worker-a');
      const cancelled = await bed.create({ topic, processInstanceId: 'pi-x' });
      await bed.repository.cancel({ externalTaskId: cancelled.id });
      const pending = await bed.create({ topic, processInstanceId: 'pi-x' });
      const otherInstance = await bed.createHeld('worker-a', { topic, processInstanceId: 'pi-y' });
      await bed.finish(otherInstance.id, 'worker-a');
      await bed.forgetChanges();

      expect(await bed.repository.deleteFinalTasks({ processInstanceId: 'pi-x' })).to.equal(3);
      for (const task of [finished, failed, cancelled])
        expect(await bed.repository.getById(task.id)).to.equal(undefined);
      expect(ids((await bed.repository.query({ processInstanceId: 'pi-x' })).tasks)).to.deep.equal([
        pending.id,
      ]);
      expect((await bed.current(otherInstance.id)).state).to.equal('finished');
      await bed.expectCounts(topic, { available: 1, finished: 1 });
      expect(await bed.changes()).to.deep.equal([]);
      expect(await bed.repository.deleteFinalTasks({ processInstanceId: 'pi-x' })).to.equal(0);
    });

    it('frees the idempotency keys of the tasks it deleted', async () => {
      const first = await bed.create({ processInstanceId: 'pi-z', idempotencyKey: 'fni-z' });
      await bed.repository.cancel({ processInstanceId: 'pi-z' });
      await bed.repository.deleteFinalTasks({ processInstanceId: 'pi-z' });
      const second = await bed.create({ processInstanceId: 'pi-z', idempotencyKey: 'fni-z' });
      expect(second.id).to.not.equal(first.id);
      expect(second.state).to.equal('pending');
    });

    it('refuses a selector without a processInstanceId with a BadRequestError naming it', async () => {
      await expectBadRequest(
        bed.repository.deleteFinalTasks({} as { processInstanceId: string }),
        'processInstanceId',
      );
      await expectBadRequest(
        bed.repository.deleteFinalTasks(null as unknown as { processInstanceId: string }),
        'selector',
      );
    });
  });
}
