import { expect } from 'chai';
import { ManualClock } from '../../lib/clock/index.js';
import { InMemoryExternalTaskRepository } from '../../lib/repository/in-memory/index.js';
import type { ExternalTaskRepository } from '../../lib/repository/index.js';
import { PostgresExternalTaskRepository } from '../../lib/postgres/index.js';
import { newTask, serviceError, START, bpmnError } from '../../lib/testing/contract/case-inputs.js';
import { ChangeRecorder } from '../../lib/testing/contract/recorders.js';
import {
  dropSchema,
  dropServerSchema,
  freshSchema,
  quietLogger,
  requireServer,
  serverUrl,
  sharedPglite,
} from '../postgres/support.js';

/** A store with `finalTaskRetention: 0`, and how to drop it. */
interface Opened {
  readonly repository: ExternalTaskRepository;
  readonly drop: () => Promise<void>;
}

const stores: { name: string; open(clock: ManualClock, context: Mocha.Context): Promise<Opened> }[] = [
  {
    name: 'the in-memory store',
    open: (clock) =>
      Promise.resolve({
        repository: new InMemoryExternalTaskRepository({ clock, finalTaskRetention: 0 }),
        drop: () => Promise.resolve(),
      }),
  },
  {
    name: 'the PostgreSQL server',
    async open(clock, context) {
      await requireServer(context);
      const schema = freshSchema();
      const repository = new PostgresExternalTaskRepository(
        { connectionString: serverUrl },
        { schema, clock, logger: quietLogger(), finalTaskRetention: 0 },
      );
      await repository.migrate();
      return { repository, drop: () => repository.close().then(() => dropServerSchema(schema)) };
    },
  },
  {
    name: 'PGlite',
    async open(clock) {
      const pglite = await sharedPglite();
      const schema = freshSchema();
      const repository = new PostgresExternalTaskRepository(
        { pglite },
        { schema, clock, logger: quietLogger(), finalTaskRetention: 0 },
      );
      await repository.migrate();
      return { repository, drop: () => repository.close().then(() => dropSchema(pglite, schema)) };
    },
  },
];

for (const store of stores) {
  describe(`finalTaskRetention: 0 on ${store.name}: a task's row goes as it ends, its outcome lives on in the feed`, function () {
    // PGlite takes seconds to open, more on a loaded machine.
    this.timeout(120_000);
    let clock: ManualClock;
    let opened: Opened | undefined;
    let repository: ExternalTaskRepository;
    let recorder: ChangeRecorder;

    beforeEach(async function () {
      clock = new ManualClock(START);
      opened = await store.open(clock, this);
      repository = opened.repository;
      recorder = await ChangeRecorder.subscribe(repository);
    });

    afterEach(async () => {
      await recorder?.close();
      await opened?.drop();
      opened = undefined;
    });

    /** Creates a task of its own topic and claims it for `w1`. */
    async function held(overrides: Parameters<typeof newTask>[0] = {}): Promise<string> {
      const topic = `t-${Math.random().toString(36).slice(2)}`;
      const { id } = await repository.create(newTask({ topic, processInstanceId: 'pi-1', ...overrides }));
      const [claimed] = await repository.claim({
        workerId: 'w1',
        topics: [{ topicName: topic, lockDuration: 1000 }],
        maxTasks: 1,
      });
      expect(claimed?.id).to.equal(id);
      return id;
    }

    async function outcomeOf(id: string) {
      await recorder.settled();
      return recorder.changes.filter((change) => change.task.id === id).at(-1);
    }

    it('a finished task is gone when the finish answers; the feed carries its result', async () => {
      const id = await held();
      const answer = await repository.complete({
        externalTaskId: id,
        workerId: 'w1',
        outcome: { state: 'finished', result: { total: 12.5, lines: ['a', 'b'] } },
      });
      expect(answer).to.have.property('status', 'ok');
      expect(await repository.getById(id)).to.equal(undefined);
      expect((await repository.query({ processInstanceId: 'pi-1' })).total).to.equal(0);
      const change = await outcomeOf(id);
      expect(change?.type).to.equal('finished');
      expect(change?.task).to.include({ state: 'finished' });
      expect(change?.task.finishedAt?.getTime()).to.equal(START);
      expect(change?.task.result).to.deep.equal({ total: 12.5, lines: ['a', 'b'] });
    });

    it('tells a JSON null result from no result in the change it records', async () => {
      const withNull = await held();
      const without = await held();
      await repository.complete({
        externalTaskId: withNull,
        workerId: 'w1',
        outcome: { state: 'finished', result: null },
      });
      await repository.complete({ externalTaskId: without, workerId: 'w1', outcome: { state: 'finished' } });
      expect((await outcomeOf(withNull))?.task).to.have.property('result', null);
      expect((await outcomeOf(without))?.task).to.not.have.property('result');
    });

    it('a BPMN error and a service error without retries end and go; an incident stays for an operator', async () => {
      const bpmn = await held();
      const plain = await held();
      const incident = await held({ retries: 2 });
      await repository.complete({
        externalTaskId: bpmn,
        workerId: 'w1',
        outcome: { state: 'failed', error: bpmnError },
      });
      await repository.complete({
        externalTaskId: plain,
        workerId: 'w1',
        outcome: { state: 'failed', error: serviceError },
      });
      await repository.complete({
        externalTaskId: incident,
        workerId: 'w1',
        outcome: { state: 'failed', error: serviceError },
      });
      expect(await repository.getById(bpmn)).to.equal(undefined);
      expect(await repository.getById(plain)).to.equal(undefined);
      expect((await outcomeOf(bpmn))?.task).to.deep.include({ state: 'failed', error: bpmnError });
      expect((await outcomeOf(plain))?.task).to.deep.include({ state: 'failed', error: serviceError });
      expect(await repository.getById(incident)).to.deep.include({
        state: 'failed',
        incident: true,
        retries: 0,
      });
      expect((await repository.query({ incident: true })).tasks.map((task) => task.id)).to.deep.equal([
        incident,
      ]);

      // The retention never takes an incident away; setRetries brings it back, and its end then deletes it.
      clock.advance(365 * 24 * 3600 * 1000);
      await repository.getById(incident);
      expect(await repository.getById(incident)).to.not.equal(undefined);
      await repository.setRetries(incident, 1);
      const [again] = await repository.claim({
        workerId: 'w2',
        topics: [{ topicName: (await repository.getById(incident))!.topic, lockDuration: 1000 }],
        maxTasks: 1,
      });
      expect(again?.id).to.equal(incident);
      await repository.complete({ externalTaskId: incident, workerId: 'w2', outcome: { state: 'finished' } });
      expect(await repository.getById(incident)).to.equal(undefined);
      expect((await repository.query({ incident: true })).total).to.equal(0);
    });

    it('a retry keeps the task; a cancel deletes it and records the cancel', async () => {
      const retried = await held();
      await repository.complete({
        externalTaskId: retried,
        workerId: 'w1',
        outcome: { state: 'failed', error: serviceError, retry: { retries: 1, retryTimeout: 0 } },
      });
      expect(await repository.getById(retried)).to.include({ state: 'pending', retries: 1 });
      expect(await repository.cancel({ processInstanceId: 'pi-1' })).to.equal(1);
      expect(await repository.getById(retried)).to.equal(undefined);
      expect((await outcomeOf(retried))?.type).to.equal('cancelled');
    });

    it('a late report of a deleted task is refused as unknown, and changes nothing', async () => {
      const id = await held();
      await repository.complete({ externalTaskId: id, workerId: 'w1', outcome: { state: 'finished' } });
      await recorder.settled();
      const recorded = recorder.changes.length;
      const late = await repository.complete({
        externalTaskId: id,
        workerId: 'w1',
        outcome: { state: 'finished' },
      });
      expect(late.status).to.equal('not-found');
      await recorder.settled();
      expect(recorder.changes).to.have.length(recorded);
    });

    it('frees the idempotency key as the task ends: a create with it makes a new task', async () => {
      const id = await held({ idempotencyKey: 'key-1' });
      await repository.complete({ externalTaskId: id, workerId: 'w1', outcome: { state: 'finished' } });
      const again = await repository.create(newTask({ idempotencyKey: 'key-1' }));
      expect(again.id).to.not.equal(id);
      expect(again.state).to.equal('pending');
    });

    it('counts no final task of a topic, pending and locked ones as before', async () => {
      const id = await held();
      const topic = (await repository.getById(id))!.topic;
      await repository.create(newTask({ topic }));
      await repository.complete({ externalTaskId: id, workerId: 'w1', outcome: { state: 'finished' } });
      const [counts] = await repository.countByTopic([topic]);
      expect(counts).to.include({ topic, finished: 0 });
    });
  });
}

describe('finalTaskRetention: 0 on the PostgreSQL server: racing ends across two processes', function () {
  this.timeout(60_000);
  const schema = freshSchema();
  let first: PostgresExternalTaskRepository;
  let second: PostgresExternalTaskRepository;

  before(async function () {
    await requireServer(this);
    const open = async () => {
      const repository = new PostgresExternalTaskRepository(
        { connectionString: serverUrl },
        { schema, logger: quietLogger(), finalTaskRetention: 0 },
      );
      await repository.migrate();
      return repository;
    };
    first = await open();
    second = await open();
  });

  after(async () => {
    await first?.close();
    await second?.close();
    await dropServerSchema(schema);
  });

  it('a finish, a failure and a cancel racing for each task: it ends once, with one change, and its row is gone', async () => {
    const count = 60;
    const tasks = await first.createMany(
      Array.from({ length: count }, (_, i) =>
        newTask({ topic: 'race', processInstanceId: `race-${i}`, retries: i % 2 }),
      ),
    );
    const claimed = await first.claim({
      workerId: 'w',
      topics: [{ topicName: 'race', lockDuration: 60_000 }],
      maxTasks: count,
    });
    expect(claimed).to.have.length(count);
    const recorder = await ChangeRecorder.subscribe(second);
    try {
      const outcomes = await Promise.all(
        tasks.flatMap((task, i) => [
          first.complete({
            externalTaskId: task.id,
            workerId: 'w',
            outcome: { state: 'finished', result: i },
          }),
          second.complete({
            externalTaskId: task.id,
            workerId: 'w',
            outcome: { state: 'failed', error: serviceError },
          }),
          (i % 3 === 0 ? first : second).cancel({ processInstanceId: `race-${i}` }),
        ]),
      );
      await recorder.settled();
      for (const [i, task] of tasks.entries()) {
        const [finish, failure, cancelled] = outcomes.slice(i * 3, i * 3 + 3) as [
          { status: string },
          { status: string },
          number,
        ];
        const ends = recorder.changes.filter(
          (change) => change.task.id === task.id && ['finished', 'failed', 'cancelled'].includes(change.type),
        );
        const won = [finish.status === 'ok', failure.status === 'ok', cancelled === 1].filter(Boolean);
        expect(won, `task ${i}`).to.have.length(1);
        expect(ends, `task ${i}`).to.have.length(1);
        const stored = await first.getById(task.id);
        // Only a failure of a task with a retry budget is an incident, whose row stays.
        if (ends[0]!.type === 'failed' && i % 2 === 1) expect(stored).to.include({ incident: true });
        else expect(stored, `task ${i}`).to.equal(undefined);
      }
    } finally {
      await recorder.close();
    }
  });
});
