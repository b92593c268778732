import { expect } from 'chai';
import type pg from 'pg';
import { PostgresExternalTaskRepository } from '../../lib/postgres/index.js';
import { migrateStatements, migrations, sqlNames } from '../../lib/postgres/sql/index.js';
import { adminPool, dropSchema, freshSchema, quietLogger, requireServer, serverUrl } from './support.js';

describe('PostgresExternalTaskRepository.migrate', function () {
  let admin: pg.Pool;
  let schema: string;
  const opened: PostgresExternalTaskRepository[] = [];

  const open = (): PostgresExternalTaskRepository => {
    const repository = new PostgresExternalTaskRepository(
      { connectionString: serverUrl },
      { schema, logger: quietLogger(), poolSize: 2 },
    );
    opened.push(repository);
    return repository;
  };

  before(async function () {
    await requireServer(this);
    admin = adminPool();
  });

  beforeEach(() => {
    schema = freshSchema();
  });

  afterEach(async () => {
    for (const repository of opened.splice(0)) await repository.close();
    await dropSchema(admin, schema);
  });

  after(async () => {
    await admin?.end();
  });

  const latest = migrations.map((migration) => migration.version);

  async function versions(): Promise<number[]> {
    const { rows } = await admin.query<{ version: number }>(
      `SELECT version FROM "${schema}".migrations ORDER BY version`,
    );
    return rows.map((row) => row.version);
  }

  it('creates the schema and records its version; a second run changes nothing', async () => {
    const repository = open();
    await repository.migrate();
    const task = await repository.create({
      topic: 't',
      flowNodeInstanceId: 'f',
      correlationId: 'c',
      processInstanceId: 'p',
    });
    await repository.migrate();

    expect(await versions()).to.deep.equal(latest);
    expect(await repository.getById(task.id)).to.deep.equal(task);
  });

  it('is safe when several processes run it at once', async () => {
    await Promise.all(Array.from({ length: 6 }, () => open().migrate()));

    expect(await versions()).to.deep.equal(latest);
  });

  it('brings a version 1 schema up to date, giving changes recorded without a position theirs', async () => {
    const names = sqlNames(schema);
    const { createSchema, createVersions, record } = migrateStatements(names);
    const [first] = migrations;
    await admin.query(createSchema);
    await admin.query(createVersions);
    for (const statement of first!.statements(names)) await admin.query(statement);
    await admin.query(record, [first!.version, first!.description]);
    // What a version 1 store recorded and its sequencer had not numbered yet.
    await admin.query(`INSERT INTO "${schema}".changes (type, task) VALUES ('created', '{"id": "x"}')`);

    const repository = open();
    await repository.migrate();

    expect(await versions()).to.deep.equal(latest);
    const { rows } = await admin.query<{ position: string }>(
      `SELECT first_position AS position FROM "${schema}".changes`,
    );
    expect(rows).to.deep.equal([{ position: '1' }]);
    expect(await repository.currentPosition()).to.equal(1);
  });

  it('upgrades a schema of version 1, keeping its tasks; a repeated create then answers the stored task', async () => {
    const [first] = migrations;
    await admin.query(`CREATE SCHEMA "${schema}"`);
    await admin.query(
      `CREATE TABLE "${schema}".migrations (version integer PRIMARY KEY, description text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    for (const statement of first!.statements(sqlNames(schema))) await admin.query(statement);
    await admin.query(`INSERT INTO "${schema}".migrations (version, description) VALUES (1, 'v1')`);
    const { rows } = await admin.query<{ id: string }>(
      `INSERT INTO "${schema}".tasks (topic, flow_node_instance_id, correlation_id, process_instance_id,
         payload, priority, created_at) VALUES ('t', 'f', 'c', 'p', '{"kept":true}', 0, now()) RETURNING id`,
    );

    const repository = open();
    await repository.migrate();

    expect(await versions()).to.deep.equal(latest);
    const kept = await repository.getById(rows[0]!.id);
    expect(kept).to.include({ topic: 't', state: 'pending' });
    expect(kept).to.not.have.property('idempotencyKey');
    const input = { topic: 't', flowNodeInstanceId: 'f', correlationId: 'c', processInstanceId: 'p' };
    const keyed = await repository.create({ ...input, idempotencyKey: 'f' });
    expect(await repository.create({ ...input, idempotencyKey: 'f' })).to.deep.equal(keyed);
    expect((await repository.query({ topic: 't' })).total).to.equal(2);
  });

  it('upgrades a feed of version 8 (a row per change) to version 9 (a row per statement), keeping every change', async () => {
    const names = sqlNames(schema);
    const { createSchema, createVersions, record } = migrateStatements(names);
    const client = await admin.connect();
    try {
      await client.query('BEGIN');
      await client.query(createSchema);
      await client.query(createVersions);
      for (const migration of migrations.filter((candidate) => candidate.version <= 8)) {
        for (const statement of migration.statements(names)) await client.query(statement);
        await client.query(record, [migration.version, migration.description]);
      }
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    // What a version 8 store held: a task, and its created and locked changes, one row each.
    await admin.query(
      `WITH t AS (
         INSERT INTO "${schema}".tasks (topic, flow_node_instance_id, correlation_id, process_instance_id,
           payload, priority, created_at) VALUES ('t', 'f', 'c', 'p', '{"kept":true}', 0, now()) RETURNING *
       )
       INSERT INTO "${schema}".changes (position, type, task)
       SELECT 1, 'created', "${schema}".task_record(t) FROM t
       UNION ALL SELECT 2, 'unlocked', "${schema}".task_record(t) FROM t`,
    );
    await admin.query(`UPDATE "${schema}".feed SET sequenced_through = 2`);

    const repository = open();
    await repository.migrate();
    await repository.create({
      topic: 't',
      flowNodeInstanceId: 'g',
      correlationId: 'c',
      processInstanceId: 'p',
    });

    expect(await versions()).to.deep.equal(latest);
    const heard: [number, string, string][] = [];
    const feed = await repository.subscribe({
      after: 0,
      onChange: (change) => void heard.push([change.position, change.type, change.task.flowNodeInstanceId]),
    });
    try {
      while (heard.length < 3) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(heard).to.deep.equal([
        [1, 'created', 'f'],
        [2, 'unlocked', 'f'],
        [3, 'created', 'g'],
      ]);
    } finally {
      await feed.close();
    }
  });

  it('refuses a schema name that is not a plain lower-case identifier', () => {
    for (const bad of ['', 'Upper', 'semi;colon', '1abc', 'a'.repeat(64)]) {
      expect(
        () => new PostgresExternalTaskRepository({ connectionString: serverUrl }, { schema: bad }),
      ).to.throw('schema must be');
    }
  });
});
