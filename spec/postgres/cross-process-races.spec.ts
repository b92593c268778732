import { expect } from 'chai';
import type { ExternalTask } from '../../lib/model/index.js';
import type { PostgresExternalTaskRepository } from '../../lib/postgres/index.js';
import { SharedStore } from './shared-store.js';
import { requireServer } from './support.js';

describe('PostgresExternalTaskRepository races between processes', function () {
  this.timeout(60_000);
  let store: SharedStore;
  let first: PostgresExternalTaskRepository;
  let second: PostgresExternalTaskRepository;

  before(async function () {
    await requireServer(this);
  });

  beforeEach(async () => {
    store = new SharedStore();
    first = store.open();
    second = store.open();
    await first.migrate();
  });

  afterEach(async () => {
    await store?.close();
  });

  /**
   * `loops` claim loops, taking turns between the two stores, each claiming up to `maxTasks` (chosen at
   * random per claim) of `topics` and finishing what it got, until three claims in a row got nothing.
   * Answers every task handed out.
   */
  async function claimUntilIdle(loops: number, topics: string[], maxTasks: number): Promise<ExternalTask[]> {
    const handedOut: ExternalTask[] = [];
    const loop = async (repository: PostgresExternalTaskRepository, workerId: string): Promise<void> => {
      for (let idle = 0; idle < 3;) {
        const tasks = await repository.claim({
          workerId,
          topics: topics.map((topicName) => ({ topicName, lockDuration: 60_000 })),
          maxTasks: 1 + Math.floor(Math.random() * maxTasks),
        });
        idle = tasks.length === 0 ? idle + 1 : 0;
        handedOut.push(...tasks);
        await Promise.all(
          tasks.map((task) =>
            repository.complete({ externalTaskId: task.id, workerId, outcome: { state: 'finished' } }),
          ),
        );
      }
    };
    await Promise.all(Array.from({ length: loops }, (_, i) => loop(i % 2 ? first : second, `worker-${i}`)));
    return handedOut;
  }

  it('lets exactly one of two stores finish a task both report on', async () => {
    for (let round = 0; round < 20; round++) {
      await first.create(store.newTask('race'));
      const [task] = await first.claim({
        workerId: 'w',
        topics: [{ topicName: 'race', lockDuration: 60_000 }],
        maxTasks: 1,
      });
      const results = await Promise.all([
        first.complete({
          externalTaskId: task!.id,
          workerId: 'w',
          outcome: { state: 'finished', result: 1 },
        }),
        second.complete({
          externalTaskId: task!.id,
          workerId: 'w',
          outcome: { state: 'failed', error: { type: 'bpmn', errorCode: 'E' } },
        }),
      ]);
      expect(results.map((result) => result.status).sort()).to.deep.equal(['gone', 'ok']);
    }
  });

  it("never answers a refused write 'locked' naming its own worker, while the task changes hands", async () => {
    const topics = [{ topicName: 'hands', lockDuration: 60_000 }];
    const answers: string[] = [];
    for (let round = 0; round < 300; round++) {
      const task = await first.create(store.newTask('hands'));
      await second.claim({ workerId: 'b', topics, maxTasks: 1 });
      // 'a' reports on a task 'b' holds, while 'b' gives it back and 'a' takes it.
      const [result] = await Promise.all([
        first.complete({ externalTaskId: task.id, workerId: 'a', outcome: { state: 'finished' } }),
        (async () => {
          await second.unlock({ externalTaskId: task.id, workerId: 'b' });
          await second.claim({ workerId: 'a', topics, maxTasks: 1 });
        })(),
      ]);
      answers.push(result.status);
      if (result.status === 'locked') expect(result.task.workerId).to.not.equal('a');
      await first.cancel({ externalTaskId: task.id });
    }
    expect(answers).to.include('locked');
  });

  it('never hands a task to two claims of two stores, with many claims at once', async () => {
    const created = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const tasks = await first.createMany(
        Array.from({ length: 100 }, (_, j) => ({ ...store.newTask(j % 2 ? 'a' : 'b'), priority: j % 5 })),
      );
      for (const task of tasks) created.add(task.id);
    }
    const handedOut = await claimUntilIdle(16, ['a', 'b'], 6);

    expect(handedOut).to.have.length(created.size);
    expect(new Set(handedOut.map((task) => task.id))).to.deep.equal(created);
    for (const task of handedOut) expect(task.attempts).to.equal(1);
    const [counts] = await first.countByTopic(['a']);
    expect(counts).to.include({ finished: 400, available: 0, locked: 0 });
  });

  it('never lets two claims hold overlapping locks while short locks expire mid-flight', async () => {
    await first.createMany(Array.from({ length: 200 }, () => store.newTask('short')));
    const holds = new Map<string, { workerId: string; from: number; until: number }[]>();
    const loop = async (repository: PostgresExternalTaskRepository, workerId: string): Promise<void> => {
      const deadline = Date.now() + 1500;
      while (Date.now() < deadline) {
        const lockDuration = 20 + Math.floor(Math.random() * 30);
        const tasks = await repository.claim({
          workerId,
          topics: [{ topicName: 'short', lockDuration }],
          maxTasks: 3,
        });
        for (const task of tasks) {
          const list = holds.get(task.id) ?? [];
          const until = task.lockExpirationTime!.getTime();
          // The lock began at the database's "now" of the claim: its expiry less its duration.
          list.push({ workerId, from: until - lockDuration, until });
          holds.set(task.id, list);
        }
      }
    };

    await Promise.all(Array.from({ length: 12 }, (_, i) => loop(i % 2 ? first : second, `worker-${i}`)));

    let reclaims = 0;
    for (const [id, list] of holds) {
      const task = await first.getById(id);
      expect(task!.attempts).to.equal(list.length);
      const sorted = [...list].sort((a, b) => a.until - b.until);
      for (let i = 1; i < sorted.length; i++) {
        reclaims++;
        // Each claim took the task only once the previous lock had expired by the database's clock.
        expect(sorted[i]!.from, `lock ${i} of ${id}`).to.be.at.least(sorted[i - 1]!.until);
      }
    }
    expect(reclaims).to.be.greaterThan(50);
  });

  it('hands each task of a mass lock expiry to exactly one claim of two stores, past locks still held', async () => {
    // Locks of a fleet that lives, ahead in hand-out order, and more expired locks than a claim sorts at
    // once (the claim then walks the waiting tasks in hand-out order; see claim-candidates.ts).
    const held: ExternalTask[] = [];
    for (let i = 0; i < 3; i++) {
      held.push(
        ...(await first.createMany(
          Array.from({ length: 500 }, () => ({ ...store.newTask('fleet'), priority: 100 })),
        )),
      );
    }
    const expired = await first.createMany(
      Array.from({ length: 600 }, (_, i) => ({ ...store.newTask('fleet'), priority: i % 3 })),
    );
    const lock = (ids: readonly ExternalTask[], workerId: string, at: string) =>
      store.admin.query(
        `WITH locked AS (
           UPDATE "${store.schema}".tasks SET worker_id = $1, lock_expires_at = now() + $2::interval, attempts = 1
           WHERE id = ANY($3::uuid[]) RETURNING id, worker_id, lock_expires_at
         )
         UPDATE "${store.schema}".pending p SET worker_id = locked.worker_id, available_at = locked.lock_expires_at
         FROM locked WHERE p.id = locked.id`,
        [workerId, at, ids.map((task) => task.id)],
      );
    await lock(held, 'alive', '1 hour');
    await lock(expired, 'dead', '-1 minute');
    const handedOut = await claimUntilIdle(8, ['fleet'], 40);

    expect(handedOut).to.have.length(expired.length);
    expect(new Set(handedOut.map((task) => task.id))).to.deep.equal(new Set(expired.map((task) => task.id)));
    for (const task of handedOut) expect(task.attempts).to.equal(2);
    const [counts] = await first.countByTopic(['fleet']);
    expect(counts).to.include({ finished: 600, available: 0, locked: 1500 });
  });
});
