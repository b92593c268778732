import { expect } from 'chai';
import { BadRequestError, ChangeFeedRetentionError } from '../../lib/errors/index.js';
import { PostgresExternalTaskRepository } from '../../lib/postgres/index.js';
import type { ChangeFeedResync, ChangePosition } from '../../lib/repository/index.js';
import { dropSchema, freshSchema, quietLogger, serverUrl, useServerAdmin } from './support.js';

describe('PostgresExternalTaskRepository change feed retention', function () {
  this.timeout(30_000);
  const admin = useServerAdmin();
  let schema: string;
  let repository: PostgresExternalTaskRepository;

  const createTasks = (count: number, from: number, store = repository) =>
    store.createMany(
      Array.from({ length: count }, (_, i) => ({
        topic: 'kept',
        flowNodeInstanceId: `f-${from + i}`,
        correlationId: 'c',
        processInstanceId: 'p',
      })),
    );

  beforeEach(async () => {
    schema = freshSchema();
    repository = new PostgresExternalTaskRepository(
      { connectionString: serverUrl },
      { schema, logger: quietLogger(), changesRetained: 5, safetyRecheckInterval: 200 },
    );
    await repository.migrate();
  });

  afterEach(async () => {
    await repository?.close();
    await dropSchema(admin.pool, schema);
  });

  it('keeps the latest changesRetained positions: a resume inside them replays, one before them is refused', async () => {
    // Two statements: positions 1–6 and 7–12. The feed keeps a row per statement, and prunes the rows
    // whose every position fell out of the latest five (8–12): the first goes, the second stays whole.
    await createTasks(6, 0);
    await createTasks(6, 6);

    const { rows } = await admin.pool.query<{ position: string }>(
      `SELECT first_position + k - 1 AS position
       FROM "${schema}".changes, generate_subscripts(types, 1) AS k ORDER BY position`,
    );
    expect(rows.map((row) => Number(row.position))).to.deep.equal([7, 8, 9, 10, 11, 12]);
    const error = await repository
      .subscribe({ after: 6, onChange: () => undefined })
      .catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ChangeFeedRetentionError);

    const positions: ChangePosition[] = [];
    const feed = await repository.subscribe({
      after: 7,
      onChange: (change) => void positions.push(change.position),
    });
    try {
      while (positions.length < 5) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(positions).to.deep.equal([8, 9, 10, 11, 12]);
    } finally {
      await feed.close();
    }
  });

  it('tells a subscriber that fell behind the kept positions where it resumes, then goes on in order', async () => {
    await createTasks(1, 0);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const positions: ChangePosition[] = [];
    const resyncs: ChangeFeedResync[] = [];
    const feed = await repository.subscribe({
      after: 0,
      onChange: async (change) => {
        positions.push(change.position);
        if (change.position === 1) await held;
      },
      onResync: (resync) => void resyncs.push(resync),
    });
    try {
      while (positions.length < 1) await new Promise((resolve) => setTimeout(resolve, 10));
      // Recorded by another process: this one has to read them, and they are pruned by then.
      const other = new PostgresExternalTaskRepository(
        { connectionString: serverUrl },
        { schema, logger: quietLogger(), changesRetained: 5 },
      );
      await createTasks(20, 1, other);
      await other.close();
      release();
      while (positions.at(-1) !== 21) await new Promise((resolve) => setTimeout(resolve, 10));

      expect(resyncs).to.deep.equal([{ lastDelivered: 1, resumedAfter: 16 }]);
      expect(positions).to.deep.equal([1, 17, 18, 19, 20, 21]);
    } finally {
      await feed.close();
    }
  });

  it('takes the deprecated changeRetention and safetyRecheckMs as before, and refuses each beside its new name', async () => {
    await repository.close();
    repository = new PostgresExternalTaskRepository(
      { connectionString: serverUrl },
      { schema, logger: quietLogger(), changeRetention: 5, safetyRecheckMs: 200 },
    );
    await createTasks(6, 0);
    await createTasks(6, 6);
    const error = await repository
      .subscribe({ after: 6, onChange: () => undefined })
      .catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ChangeFeedRetentionError);
    for (const [name, oldName] of [
      ['changesRetained', 'changeRetention'],
      ['safetyRecheckInterval', 'safetyRecheckMs'],
    ] as const) {
      const open = () =>
        new PostgresExternalTaskRepository(
          { connectionString: serverUrl },
          { schema, [name]: 5, [oldName]: 5 },
        );
      expect(open).to.throw(BadRequestError).with.property('argument', name);
      const bad = () =>
        new PostgresExternalTaskRepository({ connectionString: serverUrl }, { schema, [oldName]: 0 });
      expect(bad).to.throw(BadRequestError).with.property('argument', oldName);
    }
  });
});
