import { expect } from 'chai';
import type { RetryRequest } from '../../repository/external-task-repository.js';
import { seededRandom } from './case-inputs.js';
import type { ContractBed } from './contract-bed.js';
import { expectBadRequest, ids, taskOf } from './expectations.js';
import { countRecords, msUntilNextAvailableOf, zeroCounts } from './oracle.js';

/** countByTopic: how many tasks of each topic are in which state. */
export function describeCounts(bed: ContractBed): void {
  describe('countByTopic', () => {
    it('answers zeros for an unknown topic', async () => {
      const topic = bed.freshTopic();
      expect(await bed.repository.countByTopic([topic])).to.deep.equal([{ topic, ...zeroCounts }]);
    });

    it('answers one entry per named topic', async () => {
      const topic = bed.freshTopic();
      const other = bed.freshTopic();
      await bed.create({ topic });
      await bed.create({ topic });
      await bed.createHeld('worker-a', { topic: other });
      const counts = await bed.repository.countByTopic([topic, other]);
      expect(counts).to.have.length(2);
      expect(counts.find((entry) => entry.topic === topic)).to.deep.equal({
        topic,
        ...zeroCounts,
        available: 2,
      });
      expect(counts.find((entry) => entry.topic === other)).to.deep.equal({
        topic: other,
        ...zeroCounts,
        locked: 1,
      });
    });

    it('answers every topic when none is named', async () => {
      const topic = bed.freshTopic();
      const other = bed.freshTopic();
      await bed.create({ topic });
      const held = await bed.createHeld('worker-a', { topic: other });
      await bed.finish(held.id, 'worker-a');
      const counts = await bed.repository.countByTopic();
      expect(counts.find((entry) => entry.topic === topic)).to.deep.equal({
        topic,
        ...zeroCounts,
        available: 1,
      });
      expect(counts.find((entry) => entry.topic === other)).to.deep.equal({
        topic: other,
        ...zeroCounts,
        finished: 1,
      });
      expect(new Set(counts.map((entry) => entry.topic)).size).to.equal(counts.length);
    });

    it('takes a filter: the named topics in their order, or every topic', async () => {
      const topic = bed.freshTopic();
      const other = bed.freshTopic();
      const quiet = bed.freshTopic();
      await bed.create({ topic });
      await bed.create({ topic: other });
      await bed.create({ topic: other });

      expect(await bed.repository.countByTopic({ topics: [other, quiet, topic] })).to.deep.equal([
        { topic: other, ...zeroCounts, available: 2 },
        { topic: quiet, ...zeroCounts },
        { topic, ...zeroCounts, available: 1 },
      ]);
      const all = await bed.repository.countByTopic({});
      expect(all).to.deep.include({ topic, ...zeroCounts, available: 1 });
      expect(all).to.deep.include({ topic: other, ...zeroCounts, available: 2 });
      expect(all.map((entry) => entry.topic)).to.not.include(quiet);
    });

    it('counts the tasks of one tenant only when the filter names it', async () => {
      const topic = bed.freshTopic();
      const other = bed.freshTopic();
      await bed.createHeld('worker-a', { topic, tenantId: 'tenant-a' });
      await bed.create({ topic, tenantId: 'tenant-a' });
      await bed.create({ topic, tenantId: 'tenant-b' });
      await bed.create({ topic });
      await bed.create({ topic: other, tenantId: 'tenant-b' });

      expect(
        await bed.repository.countByTopic({ topics: [topic, other], tenantId: 'tenant-a' }),
      ).to.deep.equal([
        { topic, ...zeroCounts, available: 1, locked: 1 },
        { topic: other, ...zeroCounts },
      ]);
      const tenantB = await bed.repository.countByTopic({ tenantId: 'tenant-b' });
      expect(tenantB).to.deep.include({ topic, ...zeroCounts, available: 1 });
      expect(tenantB).to.deep.include({ topic: other, ...zeroCounts, available: 1 });
      await bed.expectCounts(topic, { available: 3, locked: 1 });
    });

    it('counts BPMN errors apart from service errors; failed is their sum', async () => {
      const topic = bed.freshTopic();
      const bpmn = await bed.createHeld('worker-a', { topic });
      await bed.failBpmn(bpmn.id, 'worker-a');
      const service = await bed.createHeld('worker-a', { topic });
      await bed.failService(service.id, 'worker-a');
      const incident = await bed.createHeld('worker-a', { topic, retries: 1 });
      await bed.failService(incident.id, 'worker-a');
      const bpmnOnBudget = await bed.createHeld('worker-a', { topic, retries: 3 });
      await bed.failBpmn(bpmnOnBudget.id, 'worker-a');

      await bed.expectCounts(topic, { failed: 4, bpmnErrors: 2, serviceErrors: 2, incidents: 1 });
    });

    for (const [label, filter, argument] of [
      ['a topic list holding an empty name', [''], 'topicNames[0]'],
      ['a filter whose topics are not a list', { topics: 'invoice' }, 'topics'],
      ['a filter whose topics hold a number', { topics: ['invoice', 7] }, 'topics[1]'],
      ['a filter with an empty tenantId', { tenantId: '' }, 'tenantId'],
    ] as const) {
      it(`refuses ${label} with a BadRequestError naming '${argument}'`, async () => {
        await expectBadRequest(bed.repository.countByTopic(filter as unknown as string[]), argument);
      });
    }

    it('follows time: an expired lock counts as available, a due retry counts as available', async () => {
      const topic = bed.freshTopic();
      await bed.createHeld('worker-a', { topic }, 1000);
      const retried = await bed.createHeld('worker-a', { topic }, 5000);
      await bed.failService(retried.id, 'worker-a', { retries: 1, retryTimeout: 2000 });
      await bed.expectCounts(topic, { locked: 1, retrying: 1 });
      bed.clock.advance(999);
      await bed.expectCounts(topic, { locked: 1, retrying: 1 });
      bed.clock.advance(1);
      await bed.expectCounts(topic, { available: 1, retrying: 1 });
      bed.clock.advance(999);
      await bed.expectCounts(topic, { available: 1, retrying: 1 });
      bed.clock.advance(1);
      await bed.expectCounts(topic, { available: 2 });
    });

    it('changes nothing and announces nothing, even when a lock has expired or a retry is due', async () => {
      const topic = bed.freshTopic();
      const expired = await bed.createHeld('worker-a', { topic });
      const retried = await bed.createHeld('worker-a', { topic });
      await bed.failService(retried.id, 'worker-a', { retries: 1, retryTimeout: 10 });
      bed.clock.advance(5000);
      const before = [await bed.current(expired.id), await bed.current(retried.id)];

      const counts = await bed.expectNoChange(() => bed.repository.countByTopic([topic]));
      await bed.expectNoChange(() => bed.repository.countByTopic({ tenantId: 'anyone' }));
      await bed.expectNoChange(() => bed.repository.countByTopic());

      expect(counts).to.deep.equal([{ topic, ...zeroCounts, available: 2 }]);
      expect([await bed.current(expired.id), await bed.current(retried.id)]).to.deep.equal(before);
    });

    it('follows every transition', async () => {
      const topic = bed.freshTopic();
      const [t1, t2, t3, t4, t5] = [
        await bed.create({ topic, retries: 2 }),
        await bed.create({ topic }),
        await bed.create({ topic }),
        await bed.create({ topic }),
        await bed.create({ topic }),
      ];
      await bed.expectCounts(topic, { available: 5 });

      expect(ids(await bed.claim('worker-a', 5, topic))).to.have.members(ids([t1, t2, t3, t4, t5]));
      await bed.expectCounts(topic, { locked: 5 });

      await bed.finish(t2.id, 'worker-a');
      await bed.expectCounts(topic, { locked: 4, finished: 1 });

      await bed.failBpmn(t3.id, 'worker-a');
      await bed.expectCounts(topic, { locked: 3, finished: 1, failed: 1, bpmnErrors: 1 });

      await bed.unlock(t4.id, 'worker-a');
      await bed.expectCounts(topic, { available: 1, locked: 2, finished: 1, failed: 1, bpmnErrors: 1 });

      await bed.failService(t1.id, 'worker-a', { retries: 1, retryTimeout: 100 });
      await bed.expectCounts(topic, {
        available: 1,
        locked: 1,
        retrying: 1,
        finished: 1,
        failed: 1,
        bpmnErrors: 1,
      });

      await bed.repository.cancel({ externalTaskId: t4.id });
      await bed.expectCounts(topic, {
        locked: 1,
        retrying: 1,
        finished: 1,
        failed: 1,
        bpmnErrors: 1,
        cancelled: 1,
      });

      await bed.repository.cancel({ externalTaskId: t5.id });
      await bed.expectCounts(topic, { retrying: 1, finished: 1, failed: 1, bpmnErrors: 1, cancelled: 2 });

      bed.clock.advance(100);
      await bed.expectCounts(topic, { available: 1, finished: 1, failed: 1, bpmnErrors: 1, cancelled: 2 });

      expect(ids(await bed.claim('worker-b', 5, topic))).to.deep.equal([t1.id]);
      await bed.expectCounts(topic, { locked: 1, finished: 1, failed: 1, bpmnErrors: 1, cancelled: 2 });

      const failedTwice = {
        finished: 1,
        failed: 2,
        bpmnErrors: 1,
        serviceErrors: 1,
        incidents: 1,
        cancelled: 2,
      };
      await bed.failService(t1.id, 'worker-b');
      await bed.expectCounts(topic, failedTwice);

      await bed.repository.setRetries(t1.id, 0);
      await bed.expectCounts(topic, failedTwice);

      await bed.repository.setRetries(t1.id, 1);
      await bed.expectCounts(topic, { available: 1, finished: 1, failed: 1, bpmnErrors: 1, cancelled: 2 });

      expect(ids(await bed.claim('worker-c', 5, topic))).to.deep.equal([t1.id]);
      await bed.failService(t1.id, 'worker-c', { retries: 0, retryTimeout: 10 });
      await bed.expectCounts(topic, failedTwice);
    });

    it('agrees with a brute-force count over query results for random operation sequences', async () => {
      const random = seededRandom(20300102);
      const pick = <T>(values: readonly T[]): T => values[random(values.length)]!;
      const workers = ['worker-a', 'worker-b', 'worker-c'];

      for (let run = 0; run < 100; run++) {
        const topics = [bed.freshTopic(), bed.freshTopic()];
        const pis = [0, 1, 2].map((i) => `prop-${run}-pi-${i}`);
        const created: string[] = [];

        const check = async (): Promise<void> => {
          const now = bed.clock.now();
          const named = await bed.repository.countByTopic(topics);
          const everything = await bed.repository.countByTopic();
          const pendingOfTopics = [];
          for (const topic of topics) {
            const tasks = await bed.allOfTopic(topic);
            const expected = { topic, ...countRecords(tasks, now) };
            expect(
              named.find((entry) => entry.topic === topic),
              `run ${run}`,
            ).to.deep.equal(expected);
            const fromAll = everything.find((entry) => entry.topic === topic);
            expect(fromAll ?? { topic, ...zeroCounts }, `run ${run}`).to.deep.equal(expected);
            pendingOfTopics.push(...tasks);
          }
          expect(await bed.repository.msUntilNextAvailable(topics), `run ${run}`).to.equal(
            msUntilNextAvailableOf(pendingOfTopics, now),
          );
        };

        /** A task of this run, and who writes it: its holder, or a worker picked at random. */
        const target = async (): Promise<{ id: string; workerId: string } | undefined> => {
          if (created.length === 0) return undefined;
          const id = pick(created);
          const record = await bed.current(id);
          const asHolder = random(2) === 0;
          return { id, workerId: asHolder && record.workerId ? record.workerId : pick(workers) };
        };

        const steps = 1 + random(40);
        for (let step = 0; step < steps; step++) {
          switch (random(10)) {
            case 0: {
              const retries = random(5);
              const task = await bed.create({
                topic: pick(topics),
                processInstanceId: pick(pis),
                ...(retries < 4 && { retries }),
              });
              created.push(task.id);
              break;
            }
            case 1: {
              const claimed = await bed.claim(pick(workers), 1 + random(3), [
                { topicName: pick(topics), lockDuration: 1 + random(5000) },
              ]);
              for (const task of claimed) {
                expect(task.state).to.equal('pending');
                expect(task).to.not.have.property('retryAt');
              }
              break;
            }
            case 2: {
              const at = await target();
              if (!at) break;
              const kind = random(3);
              if (kind === 0) await bed.finish(at.id, at.workerId, { ok: true });
              else if (kind === 1) await bed.failBpmn(at.id, at.workerId);
              else await bed.unlock(at.id, at.workerId);
              break;
            }
            case 3: {
              const at = await target();
              if (at) await bed.extend(at.id, at.workerId, 1 + random(5000));
              break;
            }
            case 4: {
              const at = await target();
              const retry: RetryRequest | undefined =
                random(2) === 0 ? undefined : { retries: random(4), retryTimeout: random(5001) };
              if (at) await bed.failService(at.id, at.workerId, retry);
              break;
            }
            case 5: {
              if (random(2) === 0) await bed.repository.cancel({ processInstanceId: pick(pis) });
              else if (created.length > 0) await bed.repository.cancel({ externalTaskId: pick(created) });
              break;
            }
            case 6: {
              if (created.length === 0) break;
              const result = await bed.repository.setRetries(pick(created), random(4));
              expect(['ok', 'gone']).to.include(result.status);
              if (result.status === 'gone') expect(taskOf(result).state).to.not.equal('pending');
              break;
            }
            case 7:
            case 8:
              bed.clock.advance(random(6001));
              break;
            default:
              await check();
          }
        }
        await check();
      }
    });
  });
}
