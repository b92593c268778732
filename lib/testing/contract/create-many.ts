import { expect } from 'chai';
import type { NewExternalTask } from '../../model/index.js';
import { newTask, OTHER_TOPIC, START, TOPIC } from './case-inputs.js';
import type { ContractBed } from './contract-bed.js';
import { expectBadRequest, expectHints, ids, UUID } from './expectations.js';

/** createMany: many tasks in one call, all or none, in order. */
export function describeCreateMany(bed: ContractBed): void {
  describe('createMany', () => {
    it('stores every task, in the given order, announced in that order and handed out in that order', async () => {
      const inputs = Array.from({ length: 5 }, (_, i) =>
        newTask({ topic: i % 2 === 0 ? TOPIC : OTHER_TOPIC }),
      );

      const created = await bed.repository.createMany(inputs);

      expect(created.map((task) => task.flowNodeInstanceId)).to.deep.equal(
        inputs.map((task) => task.flowNodeInstanceId),
      );
      for (const task of created) {
        expect(task.id).to.match(UUID);
        expect(task).to.include({ state: 'pending', attempts: 0, priority: 0 });
        expect(task.createdAt.getTime()).to.equal(START);
        expect(await bed.repository.getById(task.id)).to.deep.equal(task);
      }
      expect(new Set(ids(created)).size).to.equal(5);
      const changes = await bed.changes();
      expect(changes.map((change) => [change.type, change.task])).to.deep.equal(
        created.map((task) => ['created', task]),
      );
      const claimed = await bed.claim('worker', 10, [
        { topicName: TOPIC, lockDuration: 1000 },
        { topicName: OTHER_TOPIC, lockDuration: 1000 },
      ]);
      expect(ids(claimed)).to.deep.equal(ids(created));
    });

    it('hands out tasks of one call after earlier ones and before later ones, priorities first', async () => {
      const before = await bed.create();
      const [low, high, normal] = await bed.repository.createMany([
        newTask({ priority: -1 }),
        newTask({ priority: 1 }),
        newTask(),
      ]);
      const after = await bed.create();

      expect(ids(await bed.claim('worker', 10))).to.deep.equal(ids([high!, before, normal!, after, low!]));
    });

    it('stores nothing and announces nothing when one task is invalid: all or none', async () => {
      const topic = bed.freshTopic();
      const inputs = [newTask({ topic }), newTask({ topic }), newTask({ topic: '' }), newTask({ topic })];

      await expectBadRequest(bed.repository.createMany(inputs), 'tasks[2].topic');

      expect((await bed.repository.query({ topic })).total).to.equal(0);
      expect(await bed.claim('worker', 10, topic)).to.deep.equal([]);
      expect(await bed.changes()).to.deep.equal([]);
      expect(await bed.repository.currentPosition()).to.equal(0);
    });

    it('names the offending field of the offending task', async () => {
      await expectBadRequest(
        bed.repository.createMany([newTask(), newTask({ payload: { a: [() => 1] } })]),
        'tasks[1].payload.a[0]',
      );
      await expectBadRequest(bed.repository.createMany([newTask({ tenantId: '' })]), 'tasks[0].tenantId');
    });

    it('refuses a list that is not an array with a BadRequestError naming tasks', async () => {
      await expectBadRequest(bed.repository.createMany(newTask() as unknown as NewExternalTask[]), 'tasks');
      expect(await bed.changes()).to.deep.equal([]);
    });

    it('refuses more than 1,000 tasks in one call with a BadRequestError naming tasks', async () => {
      await expectBadRequest(
        bed.repository.createMany(Array.from({ length: 1001 }, () => newTask())),
        'tasks',
      );
      expect(await bed.repository.currentPosition()).to.equal(0);
    });

    it('announces 100 tasks with one availability hint per topic', async () => {
      const inputs = Array.from({ length: 100 }, (_, i) => newTask({ topic: i < 60 ? TOPIC : OTHER_TOPIC }));

      const batches = await bed.hintsOf(() => bed.repository.createMany(inputs));

      expect(batches).to.have.length(1);
      expectHints(batches[0], [
        { topic: TOPIC, delay: 0, count: 60 },
        { topic: OTHER_TOPIC, delay: 0, count: 40 },
      ]);
    });
  });
}
