import { expect } from 'chai';
import { OTHER_TOPIC, seededRandom, TOPIC } from './case-inputs.js';
import type { ContractBed } from './contract-bed.js';
import { ids, taskOf } from './expectations.js';

/** Many claims at once, and writes that race: every task handed out once, every race with one winner. */
export function describeConcurrency(bed: ContractBed): void {
  describe('under concurrency', () => {
    it('hands out each of 500 tasks exactly once to 50 concurrent claims per round', async () => {
      const random = seededRandom(20300101);
      const created = new Set<string>();
      for (let i = 0; i < 500; i++) {
        const topic = i % 3 === 0 ? OTHER_TOPIC : TOPIC;
        created.add((await bed.create({ topic, priority: random(5) })).id);
      }
      const handedOut: string[] = [];
      const topics = [
        { topicName: TOPIC, lockDuration: 60_000 },
        { topicName: OTHER_TOPIC, lockDuration: 60_000 },
      ];

      for (let round = 0; round < 20 && handedOut.length < 500; round++) {
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) => bed.claim(`worker-${i}`, 1 + random(10), topics)),
        );
        for (const result of results) handedOut.push(...ids(result));
      }

      expect(handedOut).to.have.length(500);
      expect(new Set(handedOut)).to.deep.equal(created);
      expect(await bed.claim('late', 10, topics)).to.deep.equal([]);
    });

    it('never lets two claims hold overlapping locks on a task while locks expire in between', async () => {
      const random = seededRandom(42);
      for (let i = 0; i < 120; i++) await bed.create({ topic: i % 2 === 0 ? TOPIC : OTHER_TOPIC });
      const holds = new Map<string, { from: number; until: number; workerId: string }[]>();
      let reclaims = 0;

      for (let round = 0; round < 40; round++) {
        const now = bed.clock.now();
        const requests = Array.from({ length: 25 }, (_, i) => ({
          workerId: `worker-${round}-${i}`,
          topics: [
            { topicName: TOPIC, lockDuration: 1 + random(400) },
            { topicName: OTHER_TOPIC, lockDuration: 1 + random(400) },
          ],
          maxTasks: 1 + random(8),
        }));
        const results = await Promise.all(requests.map((request) => bed.repository.claim(request)));
        results.forEach((tasks, i) => {
          const request = requests[i]!;
          expect(tasks.length).to.be.at.most(request.maxTasks);
          for (const task of tasks) {
            const lockDuration = request.topics.find((t) => t.topicName === task.topic)!.lockDuration;
            expect(task.workerId).to.equal(request.workerId);
            expect(task.lockExpirationTime?.getTime()).to.equal(now + lockDuration);
            const previous = holds.get(task.id) ?? [];
            const last = previous[previous.length - 1];
            if (last) {
              reclaims++;
              expect(now, `task ${task.id} claimed while ${last.workerId} held it`).to.be.at.least(
                last.until,
              );
            }
            expect(task.attempts).to.equal(previous.length + 1);
            holds.set(task.id, [
              ...previous,
              { from: now, until: now + lockDuration, workerId: request.workerId },
            ]);
          }
        });
        bed.clock.advance(random(300));
      }

      expect(holds.size).to.equal(120);
      expect(reclaims).to.be.greaterThan(100);
    });
  });

  describe('races', () => {
    const cancelVersusFinish = async (cancelFirst: boolean): Promise<void> => {
      const held = await bed.createHeld();
      const cancel = () => bed.repository.cancel({ externalTaskId: held.id });
      const complete = () => bed.finish(held.id, 'worker-a');
      const [count, result] = cancelFirst
        ? await Promise.all([cancel(), complete()])
        : await Promise.all([complete(), cancel()]).then(([r, c]) => [c, r] as const);
      const final = await bed.current(held.id);
      if (count === 1) {
        expect(result.status).to.equal('gone');
        expect(taskOf(result).state).to.equal('cancelled');
        expect(final.state).to.equal('cancelled');
        expect(await bed.changeTypes(held.id)).to.deep.equal(['created', 'locked', 'cancelled']);
      } else {
        expect(count).to.equal(0);
        expect(result.status).to.equal('ok');
        expect(final.state).to.equal('finished');
        expect(await bed.changeTypes(held.id)).to.deep.equal(['created', 'locked', 'finished']);
      }
    };

    it('cancel vs finish (cancel issued first): exactly one wins', async () => {
      await cancelVersusFinish(true);
    });

    it('cancel vs finish (finish issued first): exactly one wins', async () => {
      await cancelVersusFinish(false);
    });

    const unlockVersusExtend = async (unlockFirst: boolean): Promise<void> => {
      const topic = bed.freshTopic();
      const held = await bed.createHeld('worker-a', { topic });
      const release = () => bed.unlock(held.id, 'worker-a');
      const prolong = () => bed.extend(held.id, 'worker-a', 60_000);
      const [unlocked, extended] = unlockFirst
        ? await Promise.all([release(), prolong()])
        : await Promise.all([prolong(), release()]).then(([e, u]) => [u, e] as const);
      const final = await bed.current(held.id);
      expect(final.state).to.equal('pending');
      if (extended.status === 'locked') {
        expect(unlocked.status).to.equal('ok');
        expect(taskOf(extended)).to.not.have.property('workerId');
        expect(await bed.changeTypes(held.id)).to.deep.equal(['created', 'locked', 'unlocked']);
      } else {
        expect(extended.status).to.equal('ok');
        expect(unlocked.status).to.equal('ok');
        expect(await bed.changeTypes(held.id)).to.deep.equal(['created', 'locked', 'extended', 'unlocked']);
      }
      expect(final).to.not.have.property('workerId');
      expect(final).to.not.have.property('lockExpirationTime');
      expect(ids(await bed.claim('worker-b', 1, topic))).to.deep.equal([held.id]);
    };

    it('unlock vs extendLock (unlock issued first): consistent outcome', async () => {
      await unlockVersusExtend(true);
    });

    it('unlock vs extendLock (extend issued first): consistent outcome', async () => {
      await unlockVersusExtend(false);
    });

    const retryVersusCancel = async (cancelFirst: boolean): Promise<void> => {
      const topic = bed.freshTopic();
      const held = await bed.createHeld('worker-a', { topic, retries: 3 });
      const cancel = () => bed.repository.cancel({ externalTaskId: held.id });
      const retry = () => bed.failService(held.id, 'worker-a', { retries: 2, retryTimeout: 100 });
      const [count, result] = cancelFirst
        ? await Promise.all([cancel(), retry()])
        : await Promise.all([retry(), cancel()]).then(([r, c]) => [c, r] as const);
      // Either order leaves a pending task for cancel: the retry keeps it pending.
      expect(count).to.equal(1);
      expect(['ok', 'gone']).to.include(result.status);
      if (result.status === 'gone') {
        expect(result.task.state).to.equal('cancelled');
        expect(await bed.changeTypes(held.id)).to.deep.equal(['created', 'locked', 'cancelled']);
      } else {
        expect(await bed.changeTypes(held.id)).to.deep.equal([
          'created',
          'locked',
          'retryScheduled',
          'cancelled',
        ]);
      }
      expect((await bed.current(held.id)).state).to.equal('cancelled');
      bed.clock.advance(100);
      expect(await bed.claim('worker-b', 1, topic)).to.deep.equal([]);
      await bed.expectCounts(topic, { cancelled: 1 });
    };

    it('complete-with-retry vs cancel (cancel issued first): the task ends cancelled', async () => {
      await retryVersusCancel(true);
    });

    it('complete-with-retry vs cancel (retry issued first): the task ends cancelled', async () => {
      await retryVersusCancel(false);
    });

    it('two cancels of the same process instance cancel each task exactly once', async () => {
      const topic = bed.freshTopic();
      const processInstanceId = `race-pi-${topic}`;
      const tasks = [
        await bed.create({ topic, processInstanceId }),
        await bed.create({ topic, processInstanceId }),
        await bed.createHeld('worker-a', { topic, processInstanceId }),
      ];
      const [a, b] = await Promise.all([
        bed.repository.cancel({ processInstanceId }),
        bed.repository.cancel({ processInstanceId }),
      ]);
      expect(a + b).to.equal(3);
      expect((await bed.changesOf('cancelled')).map((change) => change.task.id)).to.have.members(ids(tasks));
      await bed.expectCounts(topic, { cancelled: 3 });
    });

    it('two claims racing for expired locks announce each takeover once', async () => {
      const topic = bed.freshTopic();
      const held = [await bed.createHeld('worker-a', { topic }), await bed.createHeld('worker-a', { topic })];
      bed.clock.advance(1000);

      const [first, second] = await Promise.all([
        bed.claim('worker-b', 1, topic),
        bed.claim('worker-c', 1, topic),
      ]);

      expect([...ids(first), ...ids(second)]).to.have.members(ids(held));
      const expired = await bed.changesOf('lockExpired');
      expect(expired.map((change) => change.task.id)).to.have.members(ids(held));
      for (const change of expired) expect(change.task.workerId).to.equal('worker-a');
    });
  });
}
