import { expect } from 'chai';
import type { ExternalTaskQuery } from '../../repository/external-task-repository.js';
import { LOCK } from './case-inputs.js';
import type { ContractBed } from './contract-bed.js';
import { expectBadRequest, ids } from './expectations.js';

/** The queries an operator asks: by process model and worker, several states or topics, who holds what. */
export function describeOperatorQueries(bed: ContractBed): void {
  describe('query for operators', () => {
    const queryIds = async (filter: ExternalTaskQuery): Promise<string[]> =>
      ids((await bed.repository.query(filter)).tasks);

    it('finds tasks by processModelId', async () => {
      const a1 = await bed.create({ processModelId: 'invoicing' });
      await bed.create({ processModelId: 'shipping' });
      await bed.create();
      const a2 = await bed.createHeld('worker-a', { processModelId: 'invoicing' });
      expect(await queryIds({ processModelId: 'invoicing' })).to.deep.equal(ids([a1, a2]));
      expect(
        await queryIds({ processModelId: 'invoicing', state: 'pending', topic: a2.topic }),
      ).to.deep.equal(ids([a2]));
      expect(await queryIds({ processModelId: 'none' })).to.deep.equal([]);
    });

    it('finds tasks by the worker that locked them last, following claims and unlocks', async () => {
      const topic = bed.freshTopic();
      const a = await bed.createHeld('worker-a', { topic });
      const b = await bed.createHeld('worker-b', { topic });
      const done = await bed.createHeld('worker-a', { topic });
      await bed.finish(done.id, 'worker-a');
      expect(await queryIds({ workerId: 'worker-a' })).to.deep.equal(ids([a, done]));
      expect(await queryIds({ workerId: 'worker-a', state: 'pending' })).to.deep.equal(ids([a]));
      await bed.unlock(a.id, 'worker-a');
      expect(await queryIds({ workerId: 'worker-a' })).to.deep.equal(ids([done]));
      await bed.repository.forceUnlock(b.id);
      expect(await queryIds({ workerId: 'worker-b' })).to.deep.equal([]);
      const [retaken] = await bed.claim('worker-c', 1, [{ topicName: topic, lockDuration: LOCK }], {
        tenantIds: [a.tenantId!],
      });
      expect(retaken!.id).to.equal(a.id);
      expect(await queryIds({ workerId: 'worker-c' })).to.deep.equal(ids([a]));
    });

    it('answers who holds a task and until when: locked: true is a lock that holds now', async () => {
      const topic = bed.freshTopic();
      const short = await bed.createHeld('worker-a', { topic }, 1000);
      const long = await bed.createHeld('worker-a', { topic }, 5000);
      const free = await bed.create({ topic });
      const page = await bed.repository.query({ workerId: 'worker-a', locked: true });
      expect(ids(page.tasks)).to.deep.equal(ids([short, long]));
      expect(page.tasks.map((task) => task.lockExpirationTime)).to.deep.equal([
        short.lockExpirationTime,
        long.lockExpirationTime,
      ]);
      expect(await queryIds({ topic, locked: false })).to.deep.equal(ids([free]));
      bed.clock.advance(1000);
      expect(await queryIds({ topic, locked: true })).to.deep.equal(ids([long]));
      expect(await queryIds({ topic, locked: false })).to.deep.equal(ids([short, free]));
      await bed.finish(long.id, 'worker-a');
      expect(await queryIds({ topic, locked: true })).to.deep.equal([]);
    });

    it('takes several states or several topics at once (any of them); an empty list matches nothing', async () => {
      const t1 = bed.freshTopic();
      const t2 = bed.freshTopic();
      const t3 = bed.freshTopic();
      const pending = await bed.create({ topic: t1 });
      const finished = await bed.createHeld('worker-a', { topic: t2 });
      await bed.finish(finished.id, 'worker-a');
      const cancelled = await bed.create({ topic: t2 });
      await bed.repository.cancel({ externalTaskId: cancelled.id });
      const failed = await bed.createHeld('worker-a', { topic: t3 });
      await bed.failBpmn(failed.id, 'worker-a');
      expect(await queryIds({ topic: [t1, t2] })).to.deep.equal(ids([pending, finished, cancelled]));
      expect(await queryIds({ topic: [t1, t2, t3], state: ['finished', 'failed'] })).to.deep.equal(
        ids([finished, failed]),
      );
      expect(await queryIds({ topic: [t2, t2], state: ['cancelled'] })).to.deep.equal(ids([cancelled]));
      expect(await queryIds({ topic: [] })).to.deep.equal([]);
      expect(await queryIds({ topic: [t1, t2, t3], state: [] })).to.deep.equal([]);
      expect((await bed.repository.query({ topic: [t1, t2, t3], limit: 2 })).total).to.equal(4);
    });

    it('finds incidents only, across topics', async () => {
      const incident = await bed.createHeld('worker-a', { retries: 1 });
      await bed.failService(incident.id, 'worker-a');
      const plain = await bed.createHeld('worker-a');
      await bed.failService(plain.id, 'worker-a');
      expect(await queryIds({ incident: true })).to.deep.equal(ids([incident]));
    });

    for (const [label, filter, argument] of [
      ['an unknown state in a list', { state: ['pending', 'done'] }, 'state[1]'],
      ['an empty topic in a list', { topic: ['a', ''] }, 'topic[1]'],
      ['a list of 101 topics', { topic: Array.from({ length: 101 }, (_, i) => `t${i}`) }, 'topic'],
      ['an empty processModelId', { processModelId: '' }, 'processModelId'],
      ['an empty workerId', { workerId: '' }, 'workerId'],
      ['a non-boolean locked', { locked: 1 }, 'locked'],
    ] as const) {
      it(`refuses ${label} with a BadRequestError naming '${argument}'`, async () => {
        await expectBadRequest(bed.repository.query(filter as unknown as ExternalTaskQuery), argument);
      });
    }
  });
}
