import { expect } from 'chai';
import type { ExternalTask } from '../../model/index.js';
import { OTHER_TOPIC, TOPIC } from './case-inputs.js';
import type { ContractBed } from './contract-bed.js';
import { expectHints } from './expectations.js';

/** The availability hints: lossy wake-ups saying a topic has tasks now, or at a later time. */
export function describeAvailabilityHints(bed: ContractBed): void {
  describe('availability hints', () => {
    it('hints a created task as available now', async () => {
      const batches = await bed.hintsOf(async () => {
        await bed.create();
        await bed.create({ topic: OTHER_TOPIC });
      });

      expect(batches).to.have.length(2);
      expectHints(batches[0], [{ topic: TOPIC, delay: 0, count: 1 }]);
      expectHints(batches[1], [{ topic: OTHER_TOPIC, delay: 0, count: 1 }]);
    });

    it('hints the expiry of the locks a claim takes, once per topic', async () => {
      await bed.create();
      await bed.create();
      await bed.create({ topic: OTHER_TOPIC });
      await bed.create();

      const batches = await bed.hintsOf(() =>
        bed.claim('worker', 3, [
          { topicName: TOPIC, lockDuration: 4000 },
          { topicName: OTHER_TOPIC, lockDuration: 2500 },
        ]),
      );

      expect(batches).to.have.length(1);
      expectHints(batches[0], [
        { topic: TOPIC, delay: 4000, count: 2 },
        { topic: OTHER_TOPIC, delay: 2500, count: 1 },
      ]);
    });

    it('hints nothing for a lock extension, and a task given back as available now', async () => {
      const task = await bed.create();
      await bed.claim('worker', 1);

      expect(await bed.hintsOf(() => bed.extend(task.id, 'worker', 9000))).to.deep.equal([]);
      const batches = await bed.hintsOf(() => bed.unlock(task.id, 'worker'));

      expect(batches).to.have.length(1);
      expectHints(batches[0], [{ topic: TOPIC, delay: 0, count: 1 }]);
    });

    it('hints a scheduled retry with its delay, a retry without delay as available now', async () => {
      const later = await bed.createHeld('worker-a', { topic: TOPIC });
      const now = await bed.createHeld('worker-a', { topic: OTHER_TOPIC });

      const batches = await bed.hintsOf(async () => {
        await bed.failService(later.id, 'worker-a', { retries: 1, retryTimeout: 3000 });
        await bed.failService(now.id, 'worker-a', { retries: 1, retryTimeout: 0 });
      });

      expect(batches).to.have.length(2);
      expectHints(batches[0], [{ topic: TOPIC, delay: 3000, count: 1 }]);
      expectHints(batches[1], [{ topic: OTHER_TOPIC, delay: 0, count: 1 }]);
    });

    it('hints an incident brought back by setRetries as available now', async () => {
      const held = await bed.createHeld('worker-a', { topic: TOPIC, retries: 1 });
      await bed.failService(held.id, 'worker-a');

      const batches = await bed.hintsOf(() => bed.repository.setRetries(held.id, 2));

      expect(batches).to.have.length(1);
      expectHints(batches[0], [{ topic: TOPIC, delay: 0, count: 1 }]);
    });

    it('sends nothing to a closed watch; closing twice is safe', async () => {
      const closed = await bed.watchHints();
      await closed.close();
      await closed.close();
      const open = await bed.watchHints();

      await bed.create();
      await open.received(1);

      expect(closed.batches).to.deep.equal([]);
    });

    it('sends the same hints to every watch', async () => {
      const first = await bed.watchHints();
      const second = await bed.watchHints();

      const tasks: ExternalTask[] = await bed.repository.createMany([
        { topic: TOPIC, flowNodeInstanceId: 'f1', correlationId: 'c1', processInstanceId: 'p1' },
        { topic: TOPIC, flowNodeInstanceId: 'f2', correlationId: 'c2', processInstanceId: 'p2' },
      ]);
      await bed.claim('worker', 1, [{ topicName: TOPIC, lockDuration: 700 }]);
      await first.received(2);
      await second.received(2);

      expect(tasks).to.have.length(2);
      expect(second.batches).to.deep.equal(first.batches);
      expectHints(first.batches[0], [{ topic: TOPIC, delay: 0, count: 2 }]);
      expectHints(first.batches[1], [{ topic: TOPIC, delay: 700, count: 1 }]);
    });
  });
}
