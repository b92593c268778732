import { expect } from 'chai';
import type { CancelSelector } from '../../repository/external-task-repository.js';
import { LOCK, START, UNKNOWN_ID } from './case-inputs.js';
import type { ContractBed } from './contract-bed.js';
import { expectBadRequest, ids, taskOf } from './expectations.js';

/** cancel: the engine ends pending tasks. */
export function describeCancel(bed: ContractBed): void {
  describe('cancel', () => {
    it('cancels one pending task by id: state cancelled, finishedAt now, announced once', async () => {
      const task = await bed.create();
      bed.clock.advance(1234);
      expect(await bed.repository.cancel({ externalTaskId: task.id })).to.equal(1);
      const cancelled = await bed.current(task.id);
      expect(cancelled.state).to.equal('cancelled');
      expect(cancelled.finishedAt).to.deep.equal(new Date(START + 1234));
      expect(cancelled).to.not.have.property('lockExpirationTime');
      expect(await bed.changeTypes(task.id)).to.deep.equal(['created', 'cancelled']);
      expect((await bed.changesOf('cancelled', task.id))[0]!.task).to.deep.equal(cancelled);
    });

    it("cancels a locked task; the holder's extend, complete and unlock then answer 'gone' (cancelled)", async () => {
      const held = await bed.createHeld();
      expect(await bed.repository.cancel({ externalTaskId: held.id })).to.equal(1);
      const cancelled = await bed.current(held.id);
      expect(cancelled.state).to.equal('cancelled');
      expect(cancelled).to.not.have.property('lockExpirationTime');
      for (const result of [
        await bed.extend(held.id, 'worker-a'),
        await bed.finish(held.id, 'worker-a'),
        await bed.failService(held.id, 'worker-a', { retries: 1, retryTimeout: 0 }),
        await bed.unlock(held.id, 'worker-a'),
      ]) {
        expect(result.status).to.equal('gone');
        expect(taskOf(result).state).to.equal('cancelled');
      }
      expect(await bed.changeTypes(held.id)).to.deep.equal(['created', 'locked', 'cancelled']);
    });

    it('never hands out a cancelled task, whether it was available, locked or waiting for a retry', async () => {
      const topic = bed.freshTopic();
      const available = await bed.create({ topic });
      const locked = await bed.createHeld('worker-a', { topic });
      const retrying = await bed.createHeld('worker-a', { topic });
      await bed.failService(retrying.id, 'worker-a', { retries: 1, retryTimeout: 100 });
      for (const task of [available, locked, retrying]) {
        expect(await bed.repository.cancel({ externalTaskId: task.id })).to.equal(1);
      }
      expect(await bed.claim('worker-b', 10, topic)).to.deep.equal([]);
      bed.clock.advance(LOCK * 10);
      expect(await bed.claim('worker-b', 10, topic)).to.deep.equal([]);
      expect(await bed.repository.msUntilNextAvailable([topic])).to.equal(undefined);
      expect(await bed.changesOf('lockExpired')).to.deep.equal([]);
      expect(await bed.changesOf('retryDue')).to.deep.equal([]);
    });

    it('cancels the pending tasks of a flow node instance and nothing else', async () => {
      const topic = bed.freshTopic();
      const first = await bed.create({ topic, flowNodeInstanceId: 'fni-shared' });
      const second = await bed.createHeld('worker-a', { topic, flowNodeInstanceId: 'fni-shared' });
      const other = await bed.create({ topic });
      expect(await bed.repository.cancel({ flowNodeInstanceId: 'fni-shared' })).to.equal(2);
      expect((await bed.current(first.id)).state).to.equal('cancelled');
      expect((await bed.current(second.id)).state).to.equal('cancelled');
      expect((await bed.current(other.id)).state).to.equal('pending');
      expect(ids(await bed.claim('worker-b', 10, topic))).to.deep.equal([other.id]);
    });

    it('cancels only the pending tasks of a process instance; finished and failed ones are untouched', async () => {
      const topic = bed.freshTopic();
      const processInstanceId = `pi-shared-${topic}`;
      const inProcess = { topic, processInstanceId };
      const available = await bed.create(inProcess);
      const locked = await bed.createHeld('worker-a', inProcess);
      const retrying = await bed.createHeld('worker-a', inProcess);
      await bed.failService(retrying.id, 'worker-a', { retries: 2, retryTimeout: 5000 });
      const finished = await bed.createHeld('worker-a', inProcess);
      await bed.finish(finished.id, 'worker-a');
      const failed = await bed.createHeld('worker-a', inProcess);
      await bed.failBpmn(failed.id, 'worker-a');
      const incident = await bed.createHeld('worker-a', { ...inProcess, retries: 1 });
      await bed.failService(incident.id, 'worker-a');
      const elsewhere = await bed.create({ topic });
      const before = await Promise.all([finished, failed, incident].map((task) => bed.current(task.id)));
      await bed.forgetChanges();
      bed.clock.advance(77);

      expect(await bed.repository.cancel({ processInstanceId })).to.equal(3);

      for (const task of [available, locked, retrying]) {
        const cancelled = await bed.current(task.id);
        expect(cancelled.state).to.equal('cancelled');
        expect(cancelled.finishedAt).to.deep.equal(new Date(START + 77));
      }
      const after = await Promise.all([finished, failed, incident].map((task) => bed.current(task.id)));
      expect(after).to.deep.equal(before);
      expect((await bed.current(elsewhere.id)).state).to.equal('pending');
      const changes = await bed.changes();
      expect(changes.map((change) => change.type)).to.deep.equal(['cancelled', 'cancelled', 'cancelled']);
      expect(changes.map((change) => change.task.id)).to.have.members([available.id, locked.id, retrying.id]);
    });

    it('answers 0 and announces nothing when the selection has no pending task left', async () => {
      const task = await bed.create();
      expect(await bed.repository.cancel({ externalTaskId: task.id })).to.equal(1);
      await bed.forgetChanges();
      expect(await bed.repository.cancel({ externalTaskId: task.id })).to.equal(0);
      expect(await bed.repository.cancel({ processInstanceId: task.processInstanceId })).to.equal(0);
      expect(await bed.repository.cancel({ flowNodeInstanceId: task.flowNodeInstanceId })).to.equal(0);
      expect(await bed.changes()).to.deep.equal([]);
      const held = await bed.createHeld();
      await bed.finish(held.id, 'worker-a');
      expect(await bed.repository.cancel({ externalTaskId: held.id })).to.equal(0);
      expect((await bed.current(held.id)).state).to.equal('finished');
    });

    it('answers 0 for unknown ids', async () => {
      await bed.create();
      expect(await bed.repository.cancel({ externalTaskId: UNKNOWN_ID })).to.equal(0);
      expect(await bed.repository.cancel({ flowNodeInstanceId: 'no-such-fni' })).to.equal(0);
      expect(await bed.repository.cancel({ processInstanceId: 'no-such-pi' })).to.equal(0);
      expect(await bed.changesOf('cancelled')).to.deep.equal([]);
    });

    for (const [label, selector, argument] of [
      ['no key', {}, 'selector'],
      ['two keys', { externalTaskId: 'x', processInstanceId: 'y' }, 'selector'],
      [
        'all three keys',
        { externalTaskId: 'x', processInstanceId: 'y', flowNodeInstanceId: 'z' },
        'selector',
      ],
      ['null', null, 'selector'],
      ['an empty externalTaskId', { externalTaskId: '' }, 'externalTaskId'],
      ['an empty flowNodeInstanceId', { flowNodeInstanceId: '' }, 'flowNodeInstanceId'],
      ['an empty processInstanceId', { processInstanceId: '' }, 'processInstanceId'],
      ['a numeric processInstanceId', { processInstanceId: 7 }, 'processInstanceId'],
    ] as const) {
      it(`refuses a selector with ${label} with a BadRequestError naming '${argument}'`, async () => {
        const task = await bed.create({ processInstanceId: 'y' });
        await expectBadRequest(bed.repository.cancel(selector as unknown as CancelSelector), argument);
        expect((await bed.current(task.id)).state).to.equal('pending');
        expect(await bed.changesOf('cancelled')).to.deep.equal([]);
      });
    }
  });
}
