import { expect } from 'chai';
import { PostgresExternalTaskRepository } from '../../lib/postgres/index.js';
import type { PostgresConnection } from '../../lib/postgres/options.js';
import { migrateStatements, migrations, sqlNames } from '../../lib/postgres/sql/index.js';
import {
  adminPool,
  dropSchema,
  freshSchema,
  quietLogger,
  requireServer,
  serverUrl,
  sharedPglite,
} from './support.js';

/** What the spec runs SQL through: the server's pool or the shared PGlite. */
interface Database {
  query<R>(text: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

/**
 * A store of schema version 7 holding a task in every state, as version 7's statements left them
 * (written as rows, since those statements are gone): ready, locked (live and expired), retrying (due
 * and not), finished, failed with a BPMN error, an incident, cancelled.
 */
async function versionSevenStore(database: Database, schema: string): Promise<Record<string, string>> {
  const names = sqlNames(schema);
  const { createSchema, createVersions, record } = migrateStatements(names);
  await database.query(createSchema);
  await database.query(createVersions);
  for (const migration of migrations.filter((candidate) => candidate.version <= 7)) {
    for (const statement of migration.statements(names)) await database.query(statement);
    await database.query(record, [migration.version, migration.description]);
  }
  const rows: [string, string][] = [
    ['ready', `NULL, NULL, NULL, 'pending', NULL, NULL, NULL, 0`],
    ['locked', `'w1', now() + interval '1 hour', NULL, 'pending', NULL, NULL, NULL, 1`],
    ['expired', `'w2', now() - interval '1 minute', NULL, 'pending', NULL, NULL, NULL, 1`],
    [
      'retryDue',
      `NULL, NULL, now() - interval '1 minute', 'pending', NULL, '{"type":"service","message":"m"}', NULL, 1`,
    ],
    [
      'retryLater',
      `NULL, NULL, now() + interval '1 hour', 'pending', NULL, '{"type":"service","message":"m"}', NULL, 1`,
    ],
    ['finished', `'w3', NULL, NULL, 'finished', now() - interval '2 days', NULL, NULL, 1`],
    [
      'bpmn',
      `'w3', NULL, NULL, 'failed', now() - interval '1 hour', '{"type":"bpmn","errorCode":"E"}', NULL, 1`,
    ],
    [
      'incident',
      `'w4', NULL, NULL, 'failed', now() - interval '1 hour', '{"type":"service","message":"m"}', true, 1`,
    ],
    ['cancelled', `NULL, NULL, NULL, 'cancelled', now() - interval '2 days', NULL, NULL, 0`],
  ];
  const ids: Record<string, string> = {};
  for (const [name, values] of rows) {
    const inserted = await database.query<{ id: string }>(
      `INSERT INTO "${schema}".tasks (topic, flow_node_instance_id, correlation_id, process_instance_id, payload,
         priority, created_at, worker_id, lock_expires_at, retry_at, state, finished_at, error, incident, attempts)
       VALUES ('t', '${name}', 'c', 'p-${name}', '{"name":"${name}"}', 0, now(), ${values}) RETURNING id`,
    );
    ids[name] = inserted.rows[0]!.id;
  }
  return ids;
}

const recordsSql = (schema: string): string =>
  `SELECT "${schema}".task_record(t)::text AS record FROM "${schema}".tasks t ORDER BY sequence`;

function migrationToEight(
  connect: () => Promise<{ database: Database; connection: PostgresConnection }>,
): void {
  let database: Database;
  let connection: PostgresConnection;
  let schema: string;
  let ids: Record<string, string>;
  let repository: PostgresExternalTaskRepository;
  let before: string[];

  beforeEach(async () => {
    ({ database, connection } = await connect());
    schema = freshSchema();
    ids = await versionSevenStore(database, schema);
    before = (await database.query<{ record: string }>(recordsSql(schema))).rows.map((row) => row.record);
    repository = new PostgresExternalTaskRepository(connection, {
      schema,
      logger: quietLogger(),
      finalTaskRetention: 24 * 60 * 60 * 1000,
    });
    await repository.migrate();
  });

  afterEach(async () => {
    await repository.close();
    await dropSchema(database, schema);
  });

  it('keeps every task exactly as it was, each filed where version 8 looks for it', async () => {
    const after = (await database.query<{ record: string }>(recordsSql(schema))).rows.map(
      (row) => row.record,
    );
    expect(after).to.deep.equal(before);
    const { rows: pending } = await database.query<{ id: string }>(`SELECT id FROM "${schema}".pending`);
    const { rows: ended } = await database.query<{ id: string; state: string }>(
      `SELECT id, state FROM "${schema}".ended`,
    );
    const named = (list: { id: string }[]) =>
      list.map((row) => Object.keys(ids).find((name) => ids[name] === row.id)).sort();
    expect(named(pending)).to.deep.equal(['expired', 'locked', 'ready', 'retryDue', 'retryLater']);
    expect(named(ended)).to.deep.equal(['bpmn', 'cancelled', 'finished', 'incident']);
  });

  it('answers queries by state, worker, incident and lock from the moved tasks', async () => {
    const names = async (query: Parameters<PostgresExternalTaskRepository['query']>[0]) =>
      (await repository.query(query)).tasks.map((task) => task.flowNodeInstanceId);
    expect(await names({ state: ['failed'] })).to.deep.equal(['bpmn', 'incident']);
    expect(await names({ state: ['pending'] })).to.deep.equal([
      'ready',
      'locked',
      'expired',
      'retryDue',
      'retryLater',
    ]);
    expect(await names({ state: ['finished', 'cancelled'] })).to.deep.equal(['finished', 'cancelled']);
    expect(await names({ workerId: 'w3' })).to.deep.equal(['finished', 'bpmn']);
    expect(await names({ workerId: 'w1' })).to.deep.equal(['locked']);
    expect(await names({ incident: true })).to.deep.equal(['incident']);
    expect(await names({ locked: true })).to.deep.equal(['locked']);
  });

  it('hands out the ready and due tasks, takes the expired lock over, and lets the live lock finish', async () => {
    const claimed = await repository.claim({
      workerId: 'w9',
      topics: [{ topicName: 't', lockDuration: 60_000 }],
      maxTasks: 10,
    });
    expect(claimed.map((task) => task.flowNodeInstanceId)).to.deep.equal(['ready', 'expired', 'retryDue']);
    const finished = await repository.complete({
      externalTaskId: ids.locked!,
      workerId: 'w1',
      outcome: { state: 'finished', result: { ok: true } },
    });
    expect(finished.status).to.equal('ok');
    expect((await repository.query({ state: ['finished'] })).total).to.equal(2);
    expect(await repository.msUntilNextAvailable(['t'])).to.be.within(59_000, 60_000);
  });

  it('revives the incident, and deletes the final tasks past the retention and of a process instance', async () => {
    expect((await repository.setRetries(ids.incident!, 2)).status).to.equal('ok');
    expect((await repository.getById(ids.incident!))?.state).to.equal('pending');
    expect(await repository.deleteFinalTasks({ processInstanceId: 'p-bpmn' })).to.equal(1);
    const { rows } = await database.query<{ state: string; n: string }>(
      `SELECT state, count(*)::text AS n FROM "${schema}".ended GROUP BY state ORDER BY state`,
    );
    expect(rows).to.deep.equal([
      { state: 'cancelled', n: '1' },
      { state: 'finished', n: '1' },
    ]);
  });
}

describe('Migration from schema version 7 to 8', function () {
  // PGlite takes seconds to open, more on a loaded machine.
  this.timeout(120_000);

  describe('on the PostgreSQL server', function () {
    const admin = { pool: undefined as ReturnType<typeof adminPool> | undefined };
    before(async function () {
      await requireServer(this);
      admin.pool = adminPool();
    });
    after(async () => {
      await admin.pool?.end();
    });
    migrationToEight(() =>
      Promise.resolve({ database: admin.pool!, connection: { connectionString: serverUrl } }),
    );
  });

  describe('on PGlite', function () {
    migrationToEight(async () => {
      const pglite = await sharedPglite();
      return { database: pglite, connection: { pglite } };
    });
  });
});
