import { expect } from 'chai';
import sinon from 'sinon';
import { ManualClock } from '../../lib/clock/index.js';
import { InternalError } from '../../lib/errors/index.js';
import type { ExternalTask, NewExternalTask } from '../../lib/model/index.js';
import type { Driver } from '../../lib/postgres/driver/driver.js';
import { PostgresExternalTaskRepository, type PostgresConnection } from '../../lib/postgres/index.js';
import type { ConditionalWriteResult, TaskScope } from '../../lib/repository/index.js';
import { SharedStore } from './shared-store.js';
import { dropSchema, freshSchema, quietLogger, useServerAdmin, serverUrl, sharedPglite } from './support.js';

const START = Date.UTC(2030, 0, 1);
const TOPIC = 'shared';
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

/** A database to look at what the store wrote, beside it. */
interface Database {
  query(text: string): Promise<unknown>;
}

interface Bed {
  readonly repository: PostgresExternalTaskRepository;
  readonly clock: ManualClock;
  /** The statements the store sends (the `driver` is private: the tests count what reaches it). */
  readonly statements: sinon.SinonSpy<[text: string, params?: readonly unknown[]], Promise<unknown[]>>;
  /** The change types recorded for a task, in order. */
  changeTypes(externalTaskId: string): Promise<string[]>;
  /** The statements sent whose text contains `marker`. */
  sent(marker: string): number;
  close(): Promise<void>;
}

type OpenBed = (clock: ManualClock) => Promise<Bed>;

/** A migrated store in a fresh schema of `database`, its statements spied on. */
async function openBed(connection: PostgresConnection, database: Database, clock: ManualClock): Promise<Bed> {
  const schema = freshSchema();
  const repository = new PostgresExternalTaskRepository(connection, {
    schema,
    clock,
    logger: quietLogger(),
    poolSize: 4,
  });
  await repository.migrate();
  const driver = (repository as unknown as { driver: Driver }).driver;
  const statements = sinon.spy(driver, 'query') as Bed['statements'];
  return {
    repository,
    clock,
    statements,
    changeTypes: async (externalTaskId) => {
      const result = (await database.query(
        `SELECT types[k] AS type FROM "${schema}".changes, generate_subscripts(types, 1) AS k
         WHERE tasks[k]->>'id' = '${externalTaskId}' ORDER BY first_position + k`,
      )) as { rows: { type: string }[] };
      return result.rows.map((row) => row.type);
    },
    sent: (marker) => statements.getCalls().filter((call) => call.args[0].includes(marker)).length,
    close: async () => {
      statements.restore();
      await repository.close();
      await dropSchema(database, schema);
    },
  };
}

let created = 0;

function newTask(overrides: Partial<NewExternalTask> = {}): NewExternalTask {
  created++;
  return {
    topic: TOPIC,
    flowNodeInstanceId: `fni-${created}`,
    correlationId: `c-${created}`,
    processInstanceId: `pi-${created}`,
    ...overrides,
  };
}

const ids = (tasks: readonly ExternalTask[]): string[] => tasks.map((task) => task.id);

/** The claim statement's text contains this (and no other statement's does). */
const CLAIM = 'FOR UPDATE OF t SKIP LOCKED';
/** The finish statement's text contains this. */
const FINISH = "'finished' AS type";
const FEED_READ = 'LEFT JOIN LATERAL';

function describeStatementSharing(name: string, open: OpenBed): void {
  describe(name, function () {
    this.timeout(60_000);
    let bed: Bed;

    beforeEach(async () => {
      bed = await open(new ManualClock(START));
    });

    afterEach(async () => {
      await bed?.close();
    });

    const claim = (workerId: string, maxTasks: number, lockDuration = 60_000, scope?: TaskScope) =>
      bed.repository.claim({
        workerId,
        maxTasks,
        topics: [{ topicName: TOPIC, lockDuration }],
        ...(scope && { scope }),
      });

    /**
     * Creates `tasks` and has worker 'w' claim them all; then the second is given back and claimed by
     * 'other', and the third is finished by 'w'. Forgets the statements sent so far.
     */
    const heldAndFinished = async (tasks: NewExternalTask[]): Promise<ExternalTask[]> => {
      const created = await bed.repository.createMany(tasks);
      await claim('w', 10);
      await bed.repository.unlock({ externalTaskId: created[1]!.id, workerId: 'w' });
      await claim('other', 1);
      await bed.repository.complete({
        externalTaskId: created[2]!.id,
        workerId: 'w',
        outcome: { state: 'finished' },
      });
      bed.statements.resetHistory();
      return created;
    };

    it('deals the tasks of one shared claim statement out in hand-out order, each caller at most its maxTasks', async () => {
      const tasks = await bed.repository.createMany(
        Array.from({ length: 60 }, (_, i) => newTask({ priority: i % 4 })),
      );
      const handOutOrder = [...tasks]
        .sort((a, b) => b.priority - a.priority || tasks.indexOf(a) - tasks.indexOf(b))
        .map((task) => task.id);
      bed.statements.resetHistory();

      const asked = Array.from({ length: 20 }, (_, i) => 1 + (i % 5));
      const answers = await Promise.all(asked.map((maxTasks, i) => claim(`worker-${i}`, maxTasks)));

      expect(bed.sent(CLAIM)).to.equal(1);
      // 60 tasks for 60 asked: the first caller gets the first tasks, the next the next ones, …
      answers.forEach((answer, i) => {
        expect(answer).to.have.length(asked[i]!);
        for (const task of answer) {
          expect(task.workerId).to.equal(`worker-${i}`);
          expect(task.lockExpirationTime?.getTime()).to.equal(START + 60_000);
        }
      });
      expect(answers.flatMap(ids)).to.deep.equal(handOutOrder);
      expect(await claim('late', 10)).to.deep.equal([]);
    });

    it('hands every task to exactly one of many concurrent claims, round after round, in few statements', async () => {
      const all = new Set(ids(await bed.repository.createMany(Array.from({ length: 500 }, () => newTask()))));
      bed.statements.resetHistory();
      const handedOut: string[] = [];
      let calls = 0;
      const loop = async (worker: number): Promise<void> => {
        for (;;) {
          const maxTasks = 1 + ((worker + calls++) % 7);
          const tasks = await claim(`worker-${worker}`, maxTasks);
          expect(tasks.length).to.be.at.most(maxTasks);
          if (tasks.length === 0) return;
          handedOut.push(...ids(tasks));
          const results = await Promise.all(
            tasks.map((task) =>
              bed.repository.complete({
                externalTaskId: task.id,
                workerId: `worker-${worker}`,
                outcome: { state: 'finished', result: task.id },
              }),
            ),
          );
          results.forEach((result, i) => {
            expect(result.status).to.equal('ok');
            expect(result.status === 'ok' && result.task.result).to.equal(tasks[i]!.id);
          });
        }
      };
      await Promise.all(Array.from({ length: 16 }, (_, worker) => loop(worker)));

      expect(handedOut).to.have.length(500);
      expect(new Set(handedOut)).to.deep.equal(all);
      expect(bed.sent(CLAIM)).to.be.below(calls / 2);
      expect(bed.sent(FINISH)).to.be.below(500 / 2);
    });

    it("keeps each caller's scope and lock durations when claims of different shapes come together", async () => {
      await bed.repository.createMany([
        // First in hand-out order, and in no tenant's scope: the unscoped claim gets one of them.
        newTask(),
        newTask(),
        ...Array.from({ length: 5 }, () => newTask({ tenantId: 'a' })),
        ...Array.from({ length: 5 }, () => newTask({ tenantId: 'b' })),
      ]);
      const [a, b, any, aAgain] = await Promise.all([
        claim('worker-a', 3, 1000, { tenantIds: ['a'] }),
        claim('worker-b', 10, 2000, { tenantIds: ['b'] }),
        claim('worker-any', 1, 3000),
        claim('worker-a2', 10, 1000, { tenantIds: ['a'] }),
      ]);
      expect(a.map((task) => [task.tenantId, task.lockExpirationTime?.getTime()])).to.deep.equal(
        Array.from({ length: 3 }, () => ['a', START + 1000]),
      );
      expect(b.every((task) => task.tenantId === 'b' && task.workerId === 'worker-b')).to.equal(true);
      expect(any.map((task) => [task.tenantId, task.lockExpirationTime?.getTime()])).to.deep.equal([
        [undefined, START + 3000],
      ]);
      expect(aAgain.every((task) => task.tenantId === 'a')).to.equal(true);
      const all = [...a, ...b, ...any, ...aAgain];
      expect(all).to.have.length(11);
      expect(new Set(ids(all)).size).to.equal(11);
    });

    it('classifies each refused write of a shared statement for its own caller, in that statement', async () => {
      const [mine, theirs, done, scoped] = await heldAndFinished([
        newTask(),
        newTask(),
        newTask(),
        newTask({ tenantId: 'x' }),
      ]);

      const finish = (externalTaskId: string, scope?: TaskScope): Promise<ConditionalWriteResult> =>
        bed.repository.complete({
          externalTaskId,
          workerId: 'w',
          outcome: { state: 'finished', result: 1 },
          ...(scope && { scope }),
        });
      const results = await Promise.all([
        finish(mine!.id),
        finish(theirs!.id),
        finish(done!.id),
        finish(UNKNOWN_ID),
        finish(scoped!.id, { tenantIds: ['y'] }),
      ]);

      expect(results.map((result) => result.status)).to.deep.equal([
        'ok',
        'locked',
        'gone',
        'not-found',
        'not-found',
      ]);
      expect(results[1].status === 'locked' && results[1].task.workerId).to.equal('other');
      expect(bed.sent(FINISH)).to.equal(1);
      // The refusals are judged by the statement itself, on the tasks as it locked them: nothing else is sent.
      expect(bed.statements.callCount).to.equal(1);
      expect(await bed.changeTypes(mine!.id)).to.deep.equal(['created', 'locked', 'finished']);
    });

    it('answers each written request of a shared statement its own task, also after refused ones', async () => {
      const [first, theirs, done, second] = await heldAndFinished([
        newTask(),
        newTask(),
        newTask(),
        newTask(),
      ]);

      const finish = (externalTaskId: string, result: string): Promise<ConditionalWriteResult> =>
        bed.repository.complete({ externalTaskId, workerId: 'w', outcome: { state: 'finished', result } });
      // Refused, written, refused, written: the written tasks' records come from the changes recorded.
      const results = await Promise.all([
        finish(theirs!.id, 'not mine'),
        finish(first!.id, 'first'),
        finish(done!.id, 'again'),
        finish(second!.id, 'second'),
      ]);

      expect(bed.sent(FINISH)).to.equal(1);
      expect(results.map((result) => result.status)).to.deep.equal(['locked', 'ok', 'gone', 'ok']);
      const answered = results.map((result) => (result.status === 'not-found' ? undefined : result.task));
      expect(answered.map((task) => task?.id)).to.deep.equal([theirs!.id, first!.id, done!.id, second!.id]);
      expect(answered.map((task) => task?.result)).to.deep.equal([undefined, 'first', undefined, 'second']);
      expect(answered[0]?.workerId).to.equal('other');
    });

    it('delivers the changes its own statements recorded to its subscribers without reading them back', async () => {
      const delivered: number[] = [];
      const feed = await bed.repository.subscribe({
        onChange: (change) => void delivered.push(change.position),
      });
      const start = feed.position;
      bed.statements.resetHistory();
      for (let i = 0; i < 30; i++) await bed.repository.create(newTask());
      while (delivered.length < 30) await new Promise((resolve) => setTimeout(resolve, 5));
      await feed.close();

      expect(delivered).to.deep.equal(Array.from({ length: 30 }, (_, i) => start + i + 1));
      // The notifications of these positions come while their statements are in flight, and wait for their
      // answers: no read, but for a safety re-check that may fall in the test.
      expect(bed.sent(FEED_READ)).to.be.below(3);
    });

    it('runs two writes of one task, asked for at once, as if one came after the other', async () => {
      const [task] = await bed.repository.createMany([newTask()]);
      await claim('w', 1);
      const extend = (lockDuration: number) =>
        bed.repository.extendLock({ externalTaskId: task!.id, workerId: 'w', lockDuration });
      const [first, second] = await Promise.all([extend(10_000), extend(20_000)]);
      expect(first.status).to.equal('ok');
      expect(second.status === 'ok' && second.task.lockExpirationTime?.getTime()).to.equal(START + 20_000);

      const complete = (result: number) =>
        bed.repository.complete({
          externalTaskId: task!.id,
          workerId: 'w',
          outcome: { state: 'finished', result },
        });
      const [won, lost] = await Promise.all([complete(1), complete(2)]);
      expect(won.status === 'ok' && won.task.result).to.equal(1);
      expect(lost.status).to.equal('gone');
      expect(lost.status === 'gone' && lost.task.result).to.equal(1);
      expect(await bed.changeTypes(task!.id)).to.deep.equal([
        'created',
        'locked',
        'extended',
        'extended',
        'finished',
      ]);
    });

    it('fails only the request whose value the database refuses; the others of its statement get their answers', async () => {
      const [first, second] = await bed.repository.createMany([newTask(), newTask()]);
      // A NUL character is a valid JS string the database cannot store: one caller's claim carries one.
      const claims = await Promise.allSettled([claim('good', 1), claim('bad\u0000', 1)]);
      expect(claims[0].status).to.equal('fulfilled');
      expect(ids((claims[0] as PromiseFulfilledResult<ExternalTask[]>).value)).to.deep.equal([first!.id]);
      expect(claims[1].status).to.equal('rejected');
      expect((claims[1] as PromiseRejectedResult).reason).to.be.instanceOf(InternalError);

      await claim('w', 1);
      const failWith = (externalTaskId: string, errorDetails: string) =>
        bed.repository.complete({
          externalTaskId,
          workerId: 'w',
          outcome: { state: 'failed', error: { type: 'service', errorMessage: 'down', errorDetails } },
        });
      const [, held] = await Promise.all([
        bed.repository.extendLock({ externalTaskId: first!.id, workerId: 'good', lockDuration: 1000 }),
        Promise.resolve(second!),
      ]);
      const writes = await Promise.allSettled([
        failWith(held.id, 'fine'),
        bed.repository.complete({
          externalTaskId: first!.id,
          workerId: 'good',
          outcome: {
            state: 'failed',
            error: { type: 'service', errorMessage: 'x', errorDetails: 'nul \u0000' },
          },
        }),
      ]);
      expect(writes[0].status).to.equal('fulfilled');
      expect((writes[0] as PromiseFulfilledResult<ConditionalWriteResult>).value.status).to.equal('ok');
      expect((await bed.repository.getById(held.id))?.state).to.equal('failed');
      expect(writes[1].status).to.equal('rejected');
      expect((await bed.repository.getById(first!.id))?.state).to.equal('pending');
    });

    it('rejects every caller of a failing shared statement with the cause, then goes on', async () => {
      await bed.repository.createMany(Array.from({ length: 10 }, () => newTask()));
      const [held] = await claim('w', 1);
      // NaN is no bigint: the statement fails in the database, for every caller it carries.
      const now = sinon.stub(bed.clock, 'now').returns(NaN);
      const claims = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => claim(`w-${i}`, 1)));
      const writes = await Promise.allSettled(
        [held!.id, UNKNOWN_ID.replace('0000-4', '0001-4')].map((externalTaskId) =>
          bed.repository.extendLock({ externalTaskId, workerId: 'w', lockDuration: 1000 }),
        ),
      );
      now.restore();
      for (const settled of [...claims, ...writes]) {
        expect(settled.status).to.equal('rejected');
        const error = (settled as PromiseRejectedResult).reason as InternalError;
        expect(error).to.be.instanceOf(InternalError);
        expect(error.cause).to.include({ code: '22P02' }); // invalid_text_representation
      }

      const after = await Promise.all(Array.from({ length: 5 }, (_, i) => claim(`w-${i}`, 1)));
      expect(after.flat()).to.have.length(5);
      expect((await bed.repository.unlock({ externalTaskId: held!.id, workerId: 'w' })).status).to.equal(
        'ok',
      );
    });
  });
}

describe('PostgresExternalTaskRepository statement sharing', () => {
  describe('on the server', function () {
    const admin = useServerAdmin();

    describeStatementSharing('one process on the server', (clock) =>
      openBed({ connectionString: serverUrl }, admin.pool, clock),
    );

    it('lets exactly one of two processes win each write when both send them in shared statements', async function () {
      this.timeout(60_000);
      const store = new SharedStore();
      try {
        const first = store.open();
        const second = store.open();
        await first.migrate();
        await first.createMany(Array.from({ length: 200 }, () => store.newTask('race')));
        const held = await first.claim({
          workerId: 'w',
          maxTasks: 200,
          topics: [{ topicName: 'race', lockDuration: 60_000 }],
        });
        // Both processes finish every task at once, in opposite orders (their batches lock in id order).
        const results = await Promise.all([
          Promise.all(
            held.map((task) =>
              first.complete({ externalTaskId: task.id, workerId: 'w', outcome: { state: 'finished' } }),
            ),
          ),
          Promise.all(
            [...held].reverse().map((task) =>
              second.complete({
                externalTaskId: task.id,
                workerId: 'w',
                outcome: { state: 'failed', error: { type: 'bpmn', errorCode: 'E' } },
              }),
            ),
          ),
        ]);
        const [fromFirst, fromSecond] = [results[0], [...results[1]].reverse()];
        held.forEach((_, i) => {
          expect([fromFirst[i]!.status, fromSecond[i]!.status].sort()).to.deep.equal(['gone', 'ok']);
        });
      } finally {
        await store.close();
      }
    });
  });

  describe('on PGlite', function () {
    this.timeout(60_000);

    describeStatementSharing('one process on PGlite', async (clock) => {
      const pglite = await sharedPglite();
      return openBed({ pglite }, pglite, clock);
    });
  });
});
