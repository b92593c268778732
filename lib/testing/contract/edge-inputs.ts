import { expect } from 'chai';
import type { ExternalTaskRepository } from '../../repository/external-task-repository.js';
import { newTask, topicClaim } from './case-inputs.js';
import type { ContractBed } from './contract-bed.js';
import { expectBadRequest, ids } from './expectations.js';

/** A NUL character: a valid JavaScript string that no text column can hold. */
const NUL = 'a\u0000b';
/** An unpaired surrogate: valid in a JavaScript string and in JSON text, not in UTF-8. */
const LONE = 'a\ud800b';

/** Inputs at the edges of what JavaScript, JSON and the stores hold, and counts of deleted topics. */
export function describeEdgeInputs(bed: ContractBed): void {
  describe('edge inputs', () => {
    it('stores a payload and an identity holding a NUL character or an unpaired surrogate as given', async () => {
      const payload = { text: NUL, [NUL]: LONE, list: [LONE, NUL] };
      const identity = { userId: NUL, token: LONE };
      const task = await bed.create({ payload, identity });
      expect(task.payload).to.deep.equal(payload);
      expect(await bed.current(task.id)).to.deep.include({ payload, identity });
    });

    it('stores and answers SQL metacharacters and odd unicode verbatim, and selects by them exactly', async () => {
      const odd = [
        `'; DROP TABLE tasks; --`,
        `" OR 1=1 --`,
        '$1 $$ \\ \\n %_ * ? [a-z] {0}',
        'e\u0301 é ﬃ Ⅻ',
        '\u202eevil\u202c \u200b\ufeff',
        '👩\u200d👩\u200d👧 𝔘𝔫𝔦',
      ];
      for (const [k, text] of odd.entries()) {
        const topic = `${text}#${k}`;
        const created = await bed.create({
          topic,
          tenantId: text,
          processModelId: text,
          processInstanceId: text,
          flowNodeInstanceId: text,
          correlationId: text,
          idempotencyKey: `${text}#key${k}`,
          payload: { [text]: text },
        });
        expect(created).to.deep.include({ topic, tenantId: text, processModelId: text, correlationId: text });
        const [claimed] = await bed.claim(text, 1, [topicClaim(topic)], { tenantIds: [text] });
        expect(claimed, text).to.deep.include({ id: created.id, workerId: text, payload: { [text]: text } });
        const failed = { type: 'bpmn', errorCode: text, errorMessage: text } as const;
        const written = await bed.repository.complete({
          externalTaskId: created.id,
          workerId: text,
          outcome: { state: 'failed', error: failed },
        });
        expect(written.status, text).to.equal('ok');
        expect(await bed.current(created.id)).to.deep.include({ state: 'failed', error: failed });
        const found = await bed.repository.query({
          topic,
          tenantId: text,
          processModelId: text,
          processInstanceId: text,
          correlationId: text,
          flowNodeInstanceId: text,
        });
        expect(ids(found.tasks), text).to.deep.equal([created.id]);
      }
      // Patterns are not patterns: a topic of `%` neither matches nor counts the others.
      expect((await bed.repository.query({ topic: '%' })).tasks).to.deep.equal([]);
    });

    const refusals: [string, string, (repository: ExternalTaskRepository) => Promise<unknown>][] = [
      ['a topic of create', 'topic', (r) => r.create(newTask({ topic: NUL }))],
      [
        'a processInstanceId of createMany',
        'tasks[0].processInstanceId',
        (r) => r.createMany([newTask({ processInstanceId: NUL })]),
      ],
      ['an idempotencyKey', 'idempotencyKey', (r) => r.create(newTask({ idempotencyKey: NUL }))],
      ['a processInstanceId of cancel', 'processInstanceId', (r) => r.cancel({ processInstanceId: NUL })],
      ['a flowNodeInstanceId of cancel', 'flowNodeInstanceId', (r) => r.cancel({ flowNodeInstanceId: NUL })],
      [
        'a processInstanceId of deleteFinalTasks',
        'processInstanceId',
        (r) => r.deleteFinalTasks({ processInstanceId: NUL }),
      ],
      ['a topic of query', 'topic[1]', (r) => r.query({ topic: ['t', NUL] })],
      ['a workerId of query', 'workerId', (r) => r.query({ workerId: NUL })],
      ['a topic of countByTopic', 'topicNames[0]', (r) => r.countByTopic([NUL])],
      ['a tenantId of countByTopic', 'tenantId', (r) => r.countByTopic({ tenantId: NUL })],
    ];
    for (const [label, argument, call] of refusals) {
      it(`refuses a NUL character in ${label} with a BadRequestError naming '${argument}'`, async () => {
        const task = await bed.create({ processInstanceId: NUL.replace('\u0000', '') });
        await bed.expectNoChange(() => expectBadRequest(call(bed.repository), argument));
        expect((await bed.current(task.id)).state).to.equal('pending');
      });
    }

    it("refuses an unpaired surrogate in a topic with a BadRequestError naming 'topic'", async () => {
      await bed.expectNoChange(() =>
        expectBadRequest(bed.repository.create(newTask({ topic: LONE })), 'topic'),
      );
    });

    it("refuses topic names of msUntilNextAvailable that are not a list of names, naming 'topicNames'", async () => {
      await expectBadRequest(bed.repository.msUntilNextAvailable('t' as unknown as string[]), 'topicNames');
      await expectBadRequest(
        bed.repository.msUntilNextAvailable([7] as unknown as string[]),
        'topicNames[0]',
      );
      await expectBadRequest(bed.repository.msUntilNextAvailable([NUL]), 'topicNames[0]');
    });

    it('refuses a worker request that is not an object, naming request, topics or outcome', async () => {
      const repository = bed.repository;
      const task = await bed.create({});
      const held = { externalTaskId: task.id, workerId: 'w' };
      await bed.expectNoChange(async () => {
        await expectBadRequest(repository.claim(null as never), 'request');
        await expectBadRequest(repository.claim({ workerId: 'w', maxTasks: 1 } as never), 'topics');
        await expectBadRequest(repository.extendLock(null as never), 'request');
        await expectBadRequest(repository.unlock(undefined as never), 'request');
        await expectBadRequest(repository.complete(null as never), 'request');
        await expectBadRequest(repository.complete({ ...held, outcome: null } as never), 'outcome');
      });
    });

    it('works with a clock whose time has a fraction of a millisecond', async () => {
      bed.clock.advance(0.5);
      const task = await bed.create({ topic: bed.freshTopic() });
      expect(task.state).to.equal('pending');
      const [claimed] = await bed.claim('worker-a', 1, task.topic);
      expect(claimed?.id).to.equal(task.id);
      expect(await bed.repository.query({ topic: task.topic, locked: true })).to.have.property('total', 1);
    });

    it('counts every topic with tasks: a topic whose tasks were all deleted is not listed', async () => {
      const gone = bed.freshTopic();
      const kept = bed.freshTopic();
      const task = await bed.create({ topic: gone, processInstanceId: 'pi-gone' });
      await bed.create({ topic: kept });
      await bed.repository.cancel({ externalTaskId: task.id });
      expect(await bed.repository.deleteFinalTasks({ processInstanceId: 'pi-gone' })).to.equal(1);
      const topics = (await bed.repository.countByTopic()).map((counts) => counts.topic);
      expect(topics).to.include(kept);
      expect(topics).to.not.include(gone);
    });
  });
}
