import { expect } from 'chai';
import { bpmnError, START, UNKNOWN_ID } from './case-inputs.js';
import type { ContractBed } from './contract-bed.js';
import { ids, taskOf } from './expectations.js';

/** complete: a held task's outcome (finished, or failed with an error), given once. */
export function describeComplete(bed: ContractBed): void {
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
}
