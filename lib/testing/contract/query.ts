import { expect } from 'chai';
import type { ExternalTask } from '../../model/index.js';
import type { ExternalTaskQuery } from '../../repository/external-task-repository.js';
import type { ContractBed } from './contract-bed.js';
import { expectBadRequest, ids } from './expectations.js';

/** query: pages of tasks by filter, for the engine and operators. */
export function describeQuery(bed: ContractBed): void {
  describe('query', () => {
    /** Tasks in every state, across two topics and two process instances. */
    const setUp = async () => {
      const topic = bed.freshTopic();
      const other = bed.freshTopic();
      const pi = `q-pi-${topic}`;
      const pending = await bed.create({ topic, processInstanceId: pi, correlationId: `${pi}-c1` });
      const locked = await bed.createHeld('worker-a', {
        topic,
        processInstanceId: pi,
        correlationId: `${pi}-c1`,
      });
      const finished = await bed.createHeld('worker-a', { topic: other, processInstanceId: pi });
      await bed.finish(finished.id, 'worker-a');
      const bpmn = await bed.createHeld('worker-a', { topic, retries: 2 });
      await bed.failBpmn(bpmn.id, 'worker-a');
      const incident = await bed.createHeld('worker-a', { topic, retries: 2 });
      await bed.failService(incident.id, 'worker-a');
      const incidentOther = await bed.createHeld('worker-a', {
        topic: other,
        processInstanceId: pi,
        retries: 1,
      });
      await bed.failService(incidentOther.id, 'worker-a', { retries: 0, retryTimeout: 0 });
      const cancelled = await bed.create({ topic: other, flowNodeInstanceId: `${pi}-fni` });
      await bed.repository.cancel({ externalTaskId: cancelled.id });
      const retrying = await bed.createHeld('worker-a', { topic, processInstanceId: pi });
      await bed.failService(retrying.id, 'worker-a', { retries: 1, retryTimeout: 1000 });
      return {
        topic,
        other,
        pi,
        pending,
        locked,
        finished,
        bpmn,
        incident,
        incidentOther,
        cancelled,
        retrying,
        all: [pending, locked, finished, bpmn, incident, incidentOther, cancelled, retrying],
      };
    };

    const queryIds = async (filter: ExternalTaskQuery): Promise<string[]> =>
      ids((await bed.repository.query(filter)).tasks);

    it('finds tasks by topic, in creation order, with their current records', async () => {
      const s = await setUp();
      const page = await bed.repository.query({ topic: s.topic });
      expect(ids(page.tasks)).to.deep.equal(ids([s.pending, s.locked, s.bpmn, s.incident, s.retrying]));
      expect(page.total).to.equal(5);
      expect(page.tasks[1]).to.deep.equal(await bed.current(s.locked.id));
      expect(page.tasks[4]).to.include({ state: 'pending', retries: 1 });
      expect(ids((await bed.repository.query({ topic: s.other })).tasks)).to.deep.equal(
        ids([s.finished, s.incidentOther, s.cancelled]),
      );
    });

    it('finds tasks by state', async () => {
      const s = await setUp();
      expect(await queryIds({ topic: s.topic, state: 'pending' })).to.deep.equal(
        ids([s.pending, s.locked, s.retrying]),
      );
      expect(await queryIds({ topic: s.topic, state: 'failed' })).to.deep.equal(ids([s.bpmn, s.incident]));
      expect(await queryIds({ topic: s.other, state: 'finished' })).to.deep.equal(ids([s.finished]));
      expect(await queryIds({ topic: s.other, state: 'cancelled' })).to.deep.equal(ids([s.cancelled]));
      expect(await queryIds({ topic: s.topic, state: 'cancelled' })).to.deep.equal([]);
      const allCancelled = await queryIds({ state: 'cancelled', limit: 1000 });
      expect(allCancelled).to.include(s.cancelled.id);
      expect(allCancelled).to.not.include(s.pending.id);
    });

    it('finds tasks by processInstanceId, correlationId and flowNodeInstanceId', async () => {
      const s = await setUp();
      expect(await queryIds({ processInstanceId: s.pi })).to.deep.equal(
        ids([s.pending, s.locked, s.finished, s.incidentOther, s.retrying]),
      );
      expect(await queryIds({ correlationId: `${s.pi}-c1` })).to.deep.equal(ids([s.pending, s.locked]));
      expect(await queryIds({ flowNodeInstanceId: `${s.pi}-fni` })).to.deep.equal(ids([s.cancelled]));
      expect(await queryIds({ processInstanceId: 'no-such-pi' })).to.deep.equal([]);
    });

    it('finds tasks by tenantId', async () => {
      const topic = bed.freshTopic();
      const a1 = await bed.createHeld('worker-a', { topic, tenantId: 'tenant-a' });
      const b1 = await bed.create({ topic, tenantId: 'tenant-b' });
      await bed.create({ topic });
      const a2 = await bed.create({ topic, tenantId: 'tenant-a' });
      const a3 = await bed.create({ topic, tenantId: 'tenant-a' });
      await bed.repository.cancel({ externalTaskId: a3.id });

      expect(await queryIds({ tenantId: 'tenant-a' })).to.deep.equal(ids([a1, a2, a3]));
      expect(await queryIds({ tenantId: 'tenant-b', topic })).to.deep.equal(ids([b1]));
      expect(await queryIds({ tenantId: 'tenant-a', state: 'pending' })).to.deep.equal(ids([a1, a2]));
      expect((await bed.repository.query({ tenantId: 'tenant-a', limit: 1 })).total).to.equal(3);
      expect(await queryIds({ tenantId: 'tenant-c' })).to.deep.equal([]);
    });

    it('finds only failed tasks with the given incident flag', async () => {
      const s = await setUp();
      expect(await queryIds({ topic: s.topic, incident: true })).to.deep.equal(ids([s.incident]));
      expect(await queryIds({ topic: s.topic, incident: false })).to.deep.equal(ids([s.bpmn]));
      expect(await queryIds({ topic: s.other, incident: false })).to.deep.equal([]);
      expect(await queryIds({ processInstanceId: s.pi, incident: true })).to.deep.equal(
        ids([s.incidentOther]),
      );
    });

    it('combines filters: every given field must match', async () => {
      const s = await setUp();
      expect(await queryIds({ processInstanceId: s.pi, state: 'pending' })).to.deep.equal(
        ids([s.pending, s.locked, s.retrying]),
      );
      expect(await queryIds({ processInstanceId: s.pi, topic: s.other })).to.deep.equal(
        ids([s.finished, s.incidentOther]),
      );
      expect(
        await queryIds({ processInstanceId: s.pi, topic: s.other, state: 'failed', incident: true }),
      ).to.deep.equal(ids([s.incidentOther]));
      expect(await queryIds({ correlationId: `${s.pi}-c1`, state: 'failed' })).to.deep.equal([]);
      expect(await queryIds({ state: 'pending', incident: true, topic: s.topic })).to.deep.equal([]);
      expect(await queryIds({ topic: s.topic, flowNodeInstanceId: `${s.pi}-fni` })).to.deep.equal([]);
    });

    it('follows transitions: a finished task leaves the pending results', async () => {
      const s = await setUp();
      await bed.finish(s.locked.id, 'worker-a');
      expect(await queryIds({ topic: s.topic, state: 'pending' })).to.deep.equal(
        ids([s.pending, s.retrying]),
      );
      expect(await queryIds({ topic: s.topic, state: 'finished' })).to.deep.equal(ids([s.locked]));
      await bed.repository.setRetries(s.incident.id, 1);
      expect(await queryIds({ topic: s.topic, incident: true })).to.deep.equal([]);
      expect(await queryIds({ topic: s.topic, state: 'pending' })).to.deep.equal(
        ids([s.pending, s.incident, s.retrying]),
      );
    });

    it('pages with limit and offset; total counts all matches', async () => {
      const s = await setUp();
      const first = await bed.repository.query({ topic: s.topic, limit: 2 });
      expect(ids(first.tasks)).to.deep.equal(ids([s.pending, s.locked]));
      expect(first.total).to.equal(5);
      const second = await bed.repository.query({ topic: s.topic, limit: 2, offset: 2 });
      expect(ids(second.tasks)).to.deep.equal(ids([s.bpmn, s.incident]));
      expect(second.total).to.equal(5);
      const last = await bed.repository.query({ topic: s.topic, limit: 2, offset: 4 });
      expect(ids(last.tasks)).to.deep.equal(ids([s.retrying]));
      const beyond = await bed.repository.query({ topic: s.topic, limit: 2, offset: 5 });
      expect(beyond).to.deep.equal({ tasks: [], total: 5 });
      expect(await bed.repository.query({ topic: s.topic, state: 'finished' })).to.deep.equal({
        tasks: [],
        total: 0,
      });
    });

    it('answers at most 100 tasks by default, and up to 1000 with a limit', async () => {
      const topic = bed.freshTopic();
      const created: ExternalTask[] = [];
      for (let i = 0; i < 1001; i++) created.push(await bed.create({ topic }));
      const page = await bed.repository.query({ topic });
      expect(page.total).to.equal(1001);
      expect(ids(page.tasks)).to.deep.equal(ids(created.slice(0, 100)));
      const rest = await bed.repository.query({ topic, offset: 100 });
      expect(ids(rest.tasks)).to.deep.equal(ids(created.slice(100, 200)));
      const big = await bed.repository.query({ topic, limit: 1000 });
      expect(big.tasks).to.have.length(1000);
      expect(ids(big.tasks)).to.deep.equal(ids(created.slice(0, 1000)));
      const tail = await bed.repository.query({ topic, limit: 1000, offset: 1000 });
      expect(ids(tail.tasks)).to.deep.equal([created[1000]!.id]);
    });

    it('changes nothing and announces nothing', async () => {
      const s = await setUp();
      bed.clock.advance(60_000);
      await bed.expectNoChange(() => bed.repository.query({ topic: s.topic }));
    });

    for (const [label, filter, argument] of [
      ['an unknown state', { state: 'done' }, 'state'],
      ['a limit of 0', { limit: 0 }, 'limit'],
      ['a limit above 1000', { limit: 1001 }, 'limit'],
      ['a fractional limit', { limit: 1.5 }, 'limit'],
      ['a string limit', { limit: '10' }, 'limit'],
      ['a negative offset', { offset: -1 }, 'offset'],
      ['a fractional offset', { offset: 0.5 }, 'offset'],
      ['a non-boolean incident', { incident: 'yes' }, 'incident'],
      ['an empty topic', { topic: '' }, 'topic'],
      ['a numeric topic', { topic: 5 }, 'topic'],
      ['an empty tenantId', { tenantId: '' }, 'tenantId'],
      ['an empty processInstanceId', { processInstanceId: '' }, 'processInstanceId'],
      ['an empty correlationId', { correlationId: '' }, 'correlationId'],
      ['an empty flowNodeInstanceId', { flowNodeInstanceId: '' }, 'flowNodeInstanceId'],
    ] as const) {
      it(`refuses ${label} with a BadRequestError naming '${argument}'`, async () => {
        await bed.create();
        await expectBadRequest(bed.repository.query(filter as unknown as ExternalTaskQuery), argument);
      });
    }
  });
}
