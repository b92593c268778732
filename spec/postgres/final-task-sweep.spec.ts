import { expect } from 'chai';
import { PostgresExternalTaskRepository } from '../../lib/postgres/index.js';
import { pruneFinalTasks, sqlNames } from '../../lib/postgres/sql/index.js';
import { dropSchema, freshSchema, quietLogger, serverUrl, useServerAdmin } from './support.js';

describe('PostgresExternalTaskRepository final-task retention statement', function () {
  this.timeout(30_000);
  const admin = useServerAdmin();
  let schema: string;
  let repository: PostgresExternalTaskRepository;

  beforeEach(async () => {
    schema = freshSchema();
    repository = new PostgresExternalTaskRepository(
      { connectionString: serverUrl },
      { schema, logger: quietLogger() },
    );
    await repository.migrate();
  });

  afterEach(async () => {
    await repository?.close();
    await dropSchema(admin.pool, schema);
  });

  it('skips a final task another transaction holds instead of waiting for it, and takes it next time', async () => {
    const tasks = await repository.createMany(
      ['a', 'b', 'c'].map((f) => ({
        topic: 't',
        flowNodeInstanceId: f,
        correlationId: 'c',
        processInstanceId: 'p',
      })),
    );
    for (const task of tasks) await repository.cancel({ externalTaskId: task.id });
    const prune = pruneFinalTasks(sqlNames(schema));
    const later = Date.now() + 60_000;

    const holder = await admin.pool.connect();
    const sweeper = await admin.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT id FROM "${schema}".tasks WHERE id = $1 FOR UPDATE`, [tasks[1]!.id]);
      // A sweep that waited for the held row would run into this timeout.
      await sweeper.query(`SET statement_timeout = 2000`);
      const first = await sweeper.query<{ count: number }>(prune, [later, 0]);
      expect(first.rows[0]!.count).to.equal(2);
      await holder.query('COMMIT');
      const second = await sweeper.query<{ count: number }>(prune, [later, 0]);
      expect(second.rows[0]!.count).to.equal(1);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      holder.release();
      sweeper.release();
    }
    expect(await repository.getById(tasks[1]!.id)).to.equal(undefined);
  });

  it('where final tasks go at once, leaves incidents for an operator and deletes the rest a store of another retention left', async () => {
    const tasks = await repository.createMany(
      ['a', 'b'].map((f) => ({
        topic: 't',
        flowNodeInstanceId: f,
        correlationId: 'c',
        processInstanceId: 'p',
        retries: 1,
      })),
    );
    await repository.claim({ workerId: 'w', topics: [{ topicName: 't', lockDuration: 1000 }], maxTasks: 2 });
    const [incident, finished] = tasks as [(typeof tasks)[0], (typeof tasks)[0]];
    await repository.complete({
      externalTaskId: incident.id,
      workerId: 'w',
      outcome: { state: 'failed', error: { type: 'service', errorMessage: 'down' } },
    });
    await repository.complete({ externalTaskId: finished.id, workerId: 'w', outcome: { state: 'finished' } });
    const later = Date.now() + 60_000;

    const pruned = await admin.pool.query<{ count: number }>(pruneFinalTasks(sqlNames(schema), 'deleted'), [
      later,
      0,
    ]);

    expect(pruned.rows[0]!.count).to.equal(1);
    expect(await repository.getById(finished.id)).to.equal(undefined);
    expect(await repository.getById(incident.id)).to.include({ state: 'failed', incident: true });
  });
});
