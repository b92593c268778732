import { expect } from 'chai';
import { START, TOPIC } from './case-inputs.js';
import type { ContractBed } from './contract-bed.js';
import { ids, tryToChange } from './expectations.js';

/** The records a store keeps and hands out: copies, detached from the caller and from each other. */
export function describeSnapshots(bed: ContractBed): void {
  describe('snapshots', () => {
    it('stores a copy of the payload: changing the caller object afterwards changes nothing', async () => {
      const payload = { amount: 42, lines: [{ sku: 'a' }], tags: ['x'] };
      const task = await bed.create({ payload });
      payload.amount = 0;
      payload.lines[0]!.sku = 'changed';
      payload.tags.push('y');

      const expected = { amount: 42, lines: [{ sku: 'a' }], tags: ['x'] };
      expect(task.payload).to.deep.equal(expected);
      expect((await bed.repository.getById(task.id))?.payload).to.deep.equal(expected);
      expect((await bed.claim('worker', 1))[0]?.payload).to.deep.equal(expected);
    });

    it('stores a copy of the identity', async () => {
      const identity = { token: 'engine', groups: ['a'] };
      const task = await bed.create({ identity });
      identity.token = 'changed';
      identity.groups.push('b');

      expect((await bed.repository.getById(task.id))?.identity).to.deep.equal({
        token: 'engine',
        groups: ['a'],
      });
    });

    it('hands out detached records: changing one changes nothing in the store', async () => {
      const created = await bed.create({ priority: 1 });
      const read = (await bed.repository.getById(created.id))!;
      for (const snapshot of [created, read]) {
        const mutable = snapshot as unknown as Record<string, unknown>;
        tryToChange(() => (mutable.state = 'finished'));
        tryToChange(() => (mutable.topic = 'elsewhere'));
        tryToChange(() => (mutable.priority = 99));
        tryToChange(() => (mutable.workerId = 'intruder'));
        tryToChange(() => snapshot.createdAt.setTime(0));
      }

      const again = await bed.repository.getById(created.id);
      expect(again?.state).to.equal('pending');
      expect(again?.topic).to.equal(TOPIC);
      expect(again?.priority).to.equal(1);
      expect(again?.workerId).to.be.undefined;
      expect(again?.createdAt.getTime()).to.equal(START);
      expect(ids(await bed.claim('worker', 1))).to.deep.equal([created.id]);
    });

    it('hands out claimed records whose lock time cannot be moved by changing them', async () => {
      const task = await bed.create();
      const [claimed] = await bed.claim('worker', 1);
      tryToChange(() => claimed!.lockExpirationTime!.setTime(START));

      expect((await bed.repository.getById(task.id))?.lockExpirationTime?.getTime()).to.equal(START + 1000);
      expect(await bed.claim('other', 1)).to.deep.equal([]);
    });

    it('hands out a deeply frozen payload', async () => {
      const task = await bed.create({ payload: { lines: [{ sku: 'a' }] } });
      const read = (await bed.repository.getById(task.id))!;

      for (const snapshot of [task, read]) {
        const payload = snapshot.payload as { lines: { sku: string }[] };
        expect(Object.isFrozen(payload)).to.equal(true);
        expect(Object.isFrozen(payload.lines)).to.equal(true);
        expect(Object.isFrozen(payload.lines[0])).to.equal(true);
        expect(() => {
          payload.lines[0]!.sku = 'changed';
        }).to.throw(TypeError);
      }
      expect((await bed.repository.getById(task.id))?.payload).to.deep.equal({ lines: [{ sku: 'a' }] });
    });
  });
}
