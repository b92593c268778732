import { expect } from 'chai';
import type { ExternalTask } from '../../model/index.js';
import type { ConditionalWriteResult, TaskScope } from '../../repository/external-task-repository.js';
import { LOCK, START, TOPIC } from './case-inputs.js';
import type { ContractBed } from './contract-bed.js';
import { expectBadRequest, ids } from './expectations.js';

/** Scopes: what a caller may see, as data the store evaluates inside claims and conditional writes. */
export function describeScope(bed: ContractBed): void {
  describe('scope', () => {
    /** Tasks of two tenants, one without a tenant, across two process models, in creation order. */
    const setUp = async () => {
      const a1 = await bed.create({ tenantId: 'a', processModelId: 'invoicing' });
      const b1 = await bed.create({ tenantId: 'b', processModelId: 'invoicing' });
      const none = await bed.create({ processModelId: 'invoicing' });
      const a2 = await bed.create({ tenantId: 'a', processModelId: 'shipping' });
      const b2 = await bed.create({ tenantId: 'b' });
      const a3 = await bed.create({ tenantId: 'a', processModelId: 'invoicing', priority: 5 });
      await bed.forgetChanges();
      return { a1, b1, none, a2, b2, a3, all: [a3, a1, b1, none, a2, b2] };
    };

    it("claims only the tenant's tasks, in hand-out order, leaving the others untouched and in their order", async () => {
      const s = await setUp();

      const claimed = await bed.claim('a-worker', 10, TOPIC, { tenantIds: ['a'] });

      expect(ids(claimed)).to.deep.equal(ids([s.a3, s.a1, s.a2]));
      for (const task of [s.b1, s.none, s.b2]) expect(await bed.current(task.id)).to.deep.equal(task);
      expect((await bed.changes()).map((change) => [change.type, change.task.id])).to.deep.equal(
        claimed.map((task) => ['locked', task.id]),
      );
      expect(ids(await bed.claim('anyone', 10))).to.deep.equal(ids([s.b1, s.none, s.b2]));
    });

    it('claims by process model', async () => {
      const s = await setUp();

      expect(ids(await bed.claim('worker', 10, TOPIC, { processModelIds: ['invoicing'] }))).to.deep.equal(
        ids([s.a3, s.a1, s.b1, s.none]),
      );
      expect(
        ids(await bed.claim('worker', 10, TOPIC, { processModelIds: ['shipping', 'other'] })),
      ).to.deep.equal(ids([s.a2]));
    });

    it('claims what both lists allow when a scope names tenants and process models', async () => {
      const s = await setUp();

      expect(
        ids(await bed.claim('worker', 10, TOPIC, { tenantIds: ['a', 'b'], processModelIds: ['invoicing'] })),
      ).to.deep.equal(ids([s.a3, s.a1, s.b1]));
      expect(
        await bed.claim('worker', 10, TOPIC, { tenantIds: ['b'], processModelIds: ['shipping'] }),
      ).to.deep.equal([]);
    });

    it('sees nothing with an empty list, and everything with an empty scope', async () => {
      const s = await setUp();

      expect(await bed.claim('worker', 10, TOPIC, { tenantIds: [] })).to.deep.equal([]);
      expect(await bed.claim('worker', 10, TOPIC, { processModelIds: [] })).to.deep.equal([]);
      expect(
        await bed.claim('worker', 10, TOPIC, { tenantIds: [], processModelIds: ['invoicing'] }),
      ).to.deep.equal([]);
      expect(await bed.changes()).to.deep.equal([]);
      expect(ids(await bed.claim('worker', 10, TOPIC, {}))).to.deep.equal(ids(s.all));
    });

    it('keeps tasks without a tenant out of a tenant scope, and tasks without a process model out of a process-model scope', async () => {
      const none = await bed.create({ tenantId: undefined });
      const noModel = await bed.create({ tenantId: 'a' });

      expect(await bed.claim('worker', 10, TOPIC, { tenantIds: ['b'] })).to.deep.equal([]);
      expect(await bed.claim('worker', 10, TOPIC, { processModelIds: ['invoicing'] })).to.deep.equal([]);
      expect(ids(await bed.claim('worker', 10, TOPIC, { tenantIds: ['a'] }))).to.deep.equal([noModel.id]);
      expect((await bed.current(none.id)).workerId).to.be.undefined;
    });

    it('applies the scope to tasks whose lock expired, too', async () => {
      const task = await bed.create({ tenantId: 'a' });
      await bed.claim('a-worker', 1, TOPIC, { tenantIds: ['a'] });
      bed.clock.advance(LOCK);

      expect(await bed.claim('b-worker', 1, TOPIC, { tenantIds: ['b'] })).to.deep.equal([]);
      expect((await bed.current(task.id)).workerId).to.equal('a-worker');
      expect(await bed.changesOf('lockExpired')).to.deep.equal([]);
      expect(ids(await bed.claim('a-worker-2', 1, TOPIC, { tenantIds: ['a'] }))).to.deep.equal([task.id]);
    });

    it('applies the scope to due retries, too', async () => {
      const held = await bed.createHeld('a-worker', { topic: TOPIC, tenantId: 'a' });
      await bed.failService(held.id, 'a-worker', { retries: 1, retryTimeout: 10 });
      bed.clock.advance(10);

      expect(await bed.claim('b-worker', 1, TOPIC, { tenantIds: ['b'] })).to.deep.equal([]);
      expect(await bed.changesOf('retryDue')).to.deep.equal([]);
      expect(ids(await bed.claim('a-worker', 1, TOPIC, { tenantIds: ['a'] }))).to.deep.equal([held.id]);
    });

    for (const [label, scope, argument] of [
      ['a scope that is not an object', 'a', 'scope'],
      ['tenantIds that are not a list', { tenantIds: 'a' }, 'scope.tenantIds'],
      ['an empty tenant id', { tenantIds: ['a', ''] }, 'scope.tenantIds[1]'],
      ['a process model id that is a number', { processModelIds: [7] }, 'scope.processModelIds[0]'],
    ] as const) {
      it(`refuses a claim with ${label} with a BadRequestError naming '${argument}', claiming nothing`, async () => {
        const task = await bed.create({ tenantId: 'a' });
        await expectBadRequest(bed.claim('worker', 10, TOPIC, scope as unknown as TaskScope), argument);
        await expectBadRequest(bed.extend(task.id, 'worker', 1000, scope as unknown as TaskScope), argument);
        expect(await bed.current(task.id)).to.deep.equal(task);
      });
    }

    describe('conditional writes', () => {
      const outside: TaskScope = { tenantIds: ['b'] };
      const inside: TaskScope = { tenantIds: ['a'], processModelIds: ['invoicing'] };

      const writes: {
        name: string;
        write: (task: ExternalTask, scope: TaskScope) => Promise<ConditionalWriteResult>;
      }[] = [
        { name: 'extendLock', write: (task, scope) => bed.extend(task.id, 'worker', 60_000, scope) },
        { name: 'complete (finished)', write: (task, scope) => bed.finish(task.id, 'worker', 'x', scope) },
        { name: 'complete (failed)', write: (task, scope) => bed.failBpmn(task.id, 'worker', scope) },
        { name: 'unlock', write: (task, scope) => bed.unlock(task.id, 'worker', scope) },
      ];

      for (const { name, write } of writes) {
        it(`${name} answers not-found, changing nothing, when the task is outside the caller's scope`, async () => {
          const task = await bed.create({ tenantId: 'a', processModelId: 'invoicing' });
          const [held] = await bed.claim('worker', 1);
          await bed.forgetChanges();

          expect(await write(task, outside)).to.deep.equal({ status: 'not-found' });
          expect(await write(task, { processModelIds: ['shipping'] })).to.deep.equal({ status: 'not-found' });
          expect(await write(task, { tenantIds: [] })).to.deep.equal({ status: 'not-found' });

          expect(await bed.current(task.id)).to.deep.equal(held);
          expect(await bed.changes()).to.deep.equal([]);
        });

        it(`${name} answers not-found for a final task outside the caller's scope`, async () => {
          const task = await bed.create({ tenantId: 'a' });
          await bed.claim('worker', 1);
          await bed.finish(task.id, 'worker');

          expect(await write(task, outside)).to.deep.equal({ status: 'not-found' });
        });

        it(`${name} writes when the task is in the caller's scope`, async () => {
          const task = await bed.create({ tenantId: 'a', processModelId: 'invoicing' });
          await bed.claim('worker', 1);

          expect((await write(task, inside)).status).to.equal('ok');
        });
      }

      it('keeps a task without a tenant out of reach of a tenant scope', async () => {
        const task = await bed.create();
        await bed.claim('worker', 1);

        expect(await bed.extend(task.id, 'worker', 60_000, { tenantIds: ['a'] })).to.deep.equal({
          status: 'not-found',
        });
        expect((await bed.current(task.id)).lockExpirationTime?.getTime()).to.equal(START + LOCK);
      });
    });
  });
}
