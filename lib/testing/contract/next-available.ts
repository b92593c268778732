import { expect } from 'chai';
import { LOCK, OTHER_TOPIC, START, TOPIC } from './case-inputs.js';
import type { ContractBed } from './contract-bed.js';

/** msUntilNextAvailable: when long polls must look again, relative to the store's clock. */
export function describeNextAvailable(bed: ContractBed): void {
  describe('msUntilNextAvailable', () => {
    it('answers undefined when no task of the topics is pending, and 0 once one is available', async () => {
      expect(await bed.repository.msUntilNextAvailable([TOPIC])).to.be.undefined;
      await bed.create();
      expect(await bed.repository.msUntilNextAvailable([TOPIC])).to.equal(0);
      expect(await bed.repository.msUntilNextAvailable([OTHER_TOPIC])).to.be.undefined;
      expect(await bed.repository.msUntilNextAvailable([])).to.be.undefined;
    });

    it('answers the earliest lock expiration among the given topics', async () => {
      await bed.create({ topic: TOPIC });
      await bed.create({ topic: OTHER_TOPIC });
      await bed.create({ topic: OTHER_TOPIC });
      await bed.claim('worker', 1, [{ topicName: TOPIC, lockDuration: 5000 }]);
      await bed.claim('worker', 1, [{ topicName: OTHER_TOPIC, lockDuration: 3000 }]);
      await bed.claim('worker', 1, [{ topicName: OTHER_TOPIC, lockDuration: 2000 }]);

      expect(await bed.repository.msUntilNextAvailable([TOPIC, OTHER_TOPIC])).to.equal(2000);
    });

    it('counts from the store clock at the time of the call', async () => {
      await bed.create();
      await bed.claim('worker', 1, [{ topicName: TOPIC, lockDuration: 5000 }]);
      bed.clock.advance(1234);

      expect(await bed.repository.msUntilNextAvailable([TOPIC])).to.equal(5000 - 1234);
      bed.clock.advance(5000 - 1234 - 1);
      expect(await bed.repository.msUntilNextAvailable([TOPIC])).to.equal(1);
      bed.clock.advance(1);
      expect(await bed.repository.msUntilNextAvailable([TOPIC])).to.equal(0);
    });

    it('ignores locks of other topics', async () => {
      await bed.create({ topic: TOPIC });
      await bed.create({ topic: OTHER_TOPIC });
      await bed.claim('worker', 1, [{ topicName: TOPIC, lockDuration: 5000 }]);
      await bed.claim('worker', 1, [{ topicName: OTHER_TOPIC, lockDuration: 1000 }]);

      await bed.expectNextAvailableAt([TOPIC], START + 5000);
      expect(await bed.repository.msUntilNextAvailable(['third'])).to.be.undefined;
    });

    it('moves with extendLock, later and earlier', async () => {
      const first = await bed.create();
      await bed.create();
      await bed.claim('worker', 2, [{ topicName: TOPIC, lockDuration: 4000 }]);
      await bed.extend(first.id, 'worker', 10_000);
      await bed.expectNextAvailableAt([TOPIC], START + 4000);

      await bed.extend(first.id, 'worker', 100);
      await bed.expectNextAvailableAt([TOPIC], START + 100);
    });

    it('moves with complete, and answers undefined once every locked task is final', async () => {
      const first = await bed.create();
      const second = await bed.create();
      const third = await bed.create();
      await bed.claim('worker', 1, [{ topicName: TOPIC, lockDuration: 1000 }]);
      await bed.claim('worker', 2, [{ topicName: TOPIC, lockDuration: 3000 }]);
      await bed.expectNextAvailableAt([TOPIC], START + 1000);

      await bed.finish(first.id, 'worker');
      await bed.expectNextAvailableAt([TOPIC], START + 3000);
      await bed.finish(second.id, 'worker');
      await bed.failBpmn(third.id, 'worker');
      expect(await bed.repository.msUntilNextAvailable([TOPIC])).to.be.undefined;
    });

    it('answers 0 when a lock has already expired (that task is available now)', async () => {
      await bed.create();
      await bed.create();
      await bed.claim('worker', 1, [{ topicName: TOPIC, lockDuration: 1000 }]);
      await bed.claim('worker', 1, [{ topicName: TOPIC, lockDuration: 5000 }]);
      bed.clock.advance(2000);

      expect(await bed.repository.msUntilNextAvailable([TOPIC])).to.equal(0);
      await bed.claim('other', 1);
      await bed.expectNextAvailableAt([TOPIC], START + 3000);
    });

    it('answers the due time of a scheduled retry', async () => {
      const topic = bed.freshTopic();
      const held = await bed.createHeld('worker-a', { topic });
      bed.clock.advance(40);
      await bed.failService(held.id, 'worker-a', { retries: 1, retryTimeout: 2000 });
      await bed.expectNextAvailableAt([topic], START + 40 + 2000);
      expect(await bed.repository.msUntilNextAvailable([topic])).to.equal(2000);
    });

    it('answers the earliest of lock expirations and retry times among the given topics only', async () => {
      const topic = bed.freshTopic();
      const other = bed.freshTopic();
      const quiet = bed.freshTopic();
      await bed.createHeld('worker-a', { topic }, 5000);
      const retried = await bed.createHeld('worker-a', { topic }, 5000);
      await bed.failService(retried.id, 'worker-a', { retries: 1, retryTimeout: 2000 });
      const early = await bed.createHeld('worker-a', { topic: other });
      await bed.failService(early.id, 'worker-a', { retries: 1, retryTimeout: 100 });

      await bed.expectNextAvailableAt([topic], START + 2000);
      await bed.expectNextAvailableAt([topic, other], START + 100);
      await bed.expectNextAvailableAt([other], START + 100);
      expect(await bed.repository.msUntilNextAvailable([quiet])).to.equal(undefined);

      bed.clock.advance(100);
      expect(await bed.repository.msUntilNextAvailable([topic, other])).to.equal(0);
      await bed.expectNextAvailableAt([topic], START + 2000);
      bed.clock.advance(1900);
      expect(await bed.repository.msUntilNextAvailable([topic])).to.equal(0);
      await bed.claim('worker-b', 1, [{ topicName: topic, lockDuration: 10_000 }]);
      await bed.expectNextAvailableAt([topic], START + 5000);
    });

    it('answers a lock expiration when it comes before a retry', async () => {
      const topic = bed.freshTopic();
      const retried = await bed.createHeld('worker-a', { topic });
      await bed.failService(retried.id, 'worker-a', { retries: 1, retryTimeout: 9000 });
      await bed.createHeld('worker-b', { topic }, 700);
      await bed.expectNextAvailableAt([topic], START + 700);
    });

    it('answers 0 once the retry is due, and the new lock expiration once it is claimed', async () => {
      const topic = bed.freshTopic();
      const held = await bed.createHeld('worker-a', { topic });
      await bed.failService(held.id, 'worker-a', { retries: 1, retryTimeout: 300 });
      bed.clock.advance(300);
      expect(await bed.repository.msUntilNextAvailable([topic])).to.equal(0);
      await bed.claim('worker-b', 1, [{ topicName: topic, lockDuration: 800 }]);
      await bed.expectNextAvailableAt([topic], START + 300 + 800);
    });

    it('forgets a retry whose task was cancelled', async () => {
      const topic = bed.freshTopic();
      const held = await bed.createHeld('worker-a', { topic });
      await bed.failService(held.id, 'worker-a', { retries: 1, retryTimeout: 300 });
      expect(await bed.repository.cancel({ externalTaskId: held.id })).to.equal(1);
      expect(await bed.repository.msUntilNextAvailable([topic])).to.equal(undefined);
    });

    it('changes nothing and announces nothing, even when a lock has expired or a retry is due', async () => {
      const topic = bed.freshTopic();
      const expired = await bed.createHeld('worker-a', { topic });
      const retried = await bed.createHeld('worker-a', { topic });
      await bed.failService(retried.id, 'worker-a', { retries: 1, retryTimeout: 10 });
      bed.clock.advance(LOCK * 5);
      const before = [await bed.current(expired.id), await bed.current(retried.id)];

      expect(await bed.expectNoChange(() => bed.repository.msUntilNextAvailable([topic]))).to.equal(0);

      expect([await bed.current(expired.id), await bed.current(retried.id)]).to.deep.equal(before);
    });
  });
}
