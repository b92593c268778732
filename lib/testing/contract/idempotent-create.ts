import { expect } from 'chai';
import { newTask, START, TOPIC } from './case-inputs.js';
import type { ContractBed } from './contract-bed.js';
import { expectBadRequest, expectHints, ids } from './expectations.js';

/** create and createMany with an idempotency key: a repeat answers the task created before. */
export function describeIdempotentCreate(bed: ContractBed): void {
  describe('create with an idempotencyKey', () => {
    it('keeps the key on the record', async () => {
      const task = await bed.create({ idempotencyKey: 'fni-1' });
      expect(task.idempotencyKey).to.equal('fni-1');
      expect((await bed.current(task.id)).idempotencyKey).to.equal('fni-1');
      expect(await bed.create()).to.not.have.property('idempotencyKey');
    });

    it('answers the stored task to a repeat, storing nothing and announcing nothing', async () => {
      const first = await bed.create({ idempotencyKey: 'fni-1', payload: { n: 1 } });
      bed.clock.advance(1000);
      const hints = await bed.hintsOf(async () => {
        const repeat = await bed.repository.create(newTask({ idempotencyKey: 'fni-1', payload: { n: 2 } }));
        expect(repeat).to.deep.equal(first);
      });
      expect(hints).to.deep.equal([]);
      expect(await bed.changeTypes(first.id)).to.deep.equal(['created']);
      expect((await bed.repository.query({ topic: TOPIC })).total).to.equal(1);
      expect(ids(await bed.claim('worker-a'))).to.deep.equal([first.id]);
    });

    it("answers the task's current record, also once it is final, so the engine reads its outcome", async () => {
      const held = await bed.createHeld('worker-a', { idempotencyKey: 'fni-2' });
      await bed.finish(held.id, 'worker-a', { done: true });
      const repeat = await bed.create({ topic: held.topic, idempotencyKey: 'fni-2' });
      expect(repeat).to.include({ id: held.id, state: 'finished' });
      expect(repeat.result).to.deep.equal({ done: true });
      expect(await bed.claim('worker-b', 10, held.topic)).to.deep.equal([]);
    });

    it('stores one task for two concurrent creates with the same key, and both get it', async () => {
      const [a, b] = await Promise.all([
        bed.create({ idempotencyKey: 'fni-race' }),
        bed.create({ idempotencyKey: 'fni-race' }),
      ]);
      expect(a.id).to.equal(b.id);
      const stored = await bed.repository.query({ topic: TOPIC });
      expect(ids(stored.tasks)).to.deep.equal([a.id]);
      expect(await bed.changeTypes()).to.deep.equal(['created']);
    });

    it('stores one task per key for many concurrent creates, each caller getting the task of its key', async () => {
      const keys = Array.from({ length: 10 }, (_, i) => `fni-${i}`);
      const created = await Promise.all(
        [...keys, ...keys, ...keys].map((idempotencyKey) => bed.create({ idempotencyKey })),
      );
      const idByKey = new Map(keys.map((key) => [key, created.find((t) => t.idempotencyKey === key)!.id]));
      for (const task of created) expect(task.id).to.equal(idByKey.get(task.idempotencyKey!));
      expect((await bed.repository.query({ topic: TOPIC })).total).to.equal(10);
      expect(await bed.changesOf('created')).to.have.length(10);
    });

    it('lets tasks without a key and tasks with other keys be created as before', async () => {
      const a = await bed.create({ idempotencyKey: 'k-a' });
      const b = await bed.create({ idempotencyKey: 'k-b' });
      const c = await bed.create();
      const d = await bed.create();
      expect(new Set(ids([a, b, c, d])).size).to.equal(4);
    });

    for (const [label, key] of [
      ['an empty key', ''],
      ['a key of 256 characters', 'k'.repeat(256)],
      ['a numeric key', 7],
    ] as const) {
      it(`refuses ${label} with a BadRequestError naming 'idempotencyKey', storing nothing`, async () => {
        await expectBadRequest(
          bed.repository.create(newTask({ idempotencyKey: key as unknown as string })),
          'idempotencyKey',
        );
        expect(await bed.changes()).to.deep.equal([]);
      });
    }
  });

  describe('createMany with idempotency keys', () => {
    it('answers stored tasks for taken keys and stores the rest, in the given order', async () => {
      const existing = await bed.create({ idempotencyKey: 'fni-1' });
      await bed.forgetChanges();
      bed.clock.advance(10);
      const hints = await bed.hintsOf(async () => {
        const tasks = await bed.repository.createMany([
          newTask({ idempotencyKey: 'fni-0' }),
          newTask({ idempotencyKey: 'fni-1' }),
          newTask(),
        ]);
        expect(tasks[1]).to.deep.equal(existing);
        expect(tasks[0]!.createdAt.getTime()).to.equal(START + 10);
        expect(tasks[0]!.idempotencyKey).to.equal('fni-0');
        expect(await bed.changeTypes()).to.deep.equal(['created', 'created']);
        expect(ids((await bed.changesOf('created')).map((change) => change.task))).to.deep.equal(
          ids([tasks[0]!, tasks[2]!]),
        );
      });
      expectHints(hints[0], [{ topic: TOPIC, delay: 0, count: 2 }]);
      expect(hints).to.have.length(1);
      expect((await bed.repository.query({ topic: TOPIC })).total).to.equal(3);
    });

    it('stores one task for a key given twice in one call, and answers it at both places', async () => {
      const tasks = await bed.repository.createMany([
        newTask({ idempotencyKey: 'twice', payload: 1 }),
        newTask(),
        newTask({ idempotencyKey: 'twice', payload: 2 }),
      ]);
      expect(tasks[2]).to.deep.equal(tasks[0]);
      expect(tasks[0]!.payload).to.equal(1);
      expect((await bed.repository.query({ topic: TOPIC })).total).to.equal(2);
    });

    it('stores each key once when two calls with the same keys race', async () => {
      const batch = () =>
        bed.repository.createMany(['a', 'b', 'c'].map((idempotencyKey) => newTask({ idempotencyKey })));
      const [first, second] = await Promise.all([batch(), batch()]);
      expect(ids(first)).to.deep.equal(ids(second));
      expect((await bed.repository.query({ topic: TOPIC })).total).to.equal(3);
    });

    it("names the key of the offending task ('tasks[1].idempotencyKey'), storing nothing", async () => {
      await expectBadRequest(
        bed.repository.createMany([newTask({ idempotencyKey: 'ok' }), newTask({ idempotencyKey: '' })]),
        'tasks[1].idempotencyKey',
      );
      expect(await bed.changes()).to.deep.equal([]);
      expect((await bed.create({ idempotencyKey: 'ok' })).idempotencyKey).to.equal('ok');
    });
  });
}
