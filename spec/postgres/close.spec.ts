import { expect } from 'chai';
import { InternalError } from '../../lib/errors/index.js';
import { PostgresExternalTaskRepository } from '../../lib/postgres/index.js';
import { deferred } from '../support/fixtures.js';
import { adminPool, dropSchema, freshSchema, quietLogger, serverUrl, useServerAdmin } from './support.js';

describe('PostgresExternalTaskRepository.close', function () {
  this.timeout(30_000);
  const admin = useServerAdmin();
  let schema: string;

  beforeEach(() => {
    schema = freshSchema();
  });

  afterEach(async () => {
    await dropSchema(admin.pool, schema);
  });

  it('lets the calls made before it finish, even those waiting for a connection, then refuses new ones at once', async () => {
    const repository = new PostgresExternalTaskRepository(
      { connectionString: serverUrl },
      { schema, logger: quietLogger(), poolSize: 1 },
    );
    await repository.migrate();
    // Each a statement of its own (creations do not share statements), queued for the one connection.
    const calls = Array.from({ length: 20 }, (_, i) =>
      repository.create({
        topic: 't',
        flowNodeInstanceId: `f-${i}`,
        correlationId: 'c',
        processInstanceId: 'p',
      }),
    );

    const started = Date.now();
    await repository.close();

    const settled = await Promise.allSettled(calls);
    expect(settled.map((result) => result.status)).to.deep.equal(calls.map(() => 'fulfilled'));
    expect(Date.now() - started).to.be.below(5_000);
    const after = await repository.getById('00000000-0000-4000-8000-000000000000').catch((e: unknown) => e);
    expect(after).to.be.instanceOf(InternalError).and.to.have.property('message').that.includes('closed');
    const { rows } = await admin.pool.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM "${schema}".tasks`,
    );
    expect(rows[0]!.count).to.equal(20);
  });

  it('refuses a subscription that began before it and would start after it: nothing is delivered once closed', async () => {
    const pool = adminPool();
    const writer = new PostgresExternalTaskRepository({ pool }, { schema, logger: quietLogger() });
    // A subscription left open would read at its safety re-check (no notification reaches it any more).
    const repository = new PostgresExternalTaskRepository(
      { pool },
      { schema, logger: quietLogger(), safetyRecheckInterval: 50 },
    );
    try {
      await writer.migrate();
      const delivered: number[] = [];
      const subscribing = repository
        .subscribe({ onChange: (change) => void delivered.push(change.position) })
        .catch((error: unknown) => error);
      await repository.close();

      await writer.create({
        topic: 't',
        flowNodeInstanceId: 'f',
        correlationId: 'c',
        processInstanceId: 'p',
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await subscribing)
        .to.be.instanceOf(InternalError)
        .and.to.have.property('message')
        .that.includes('closed');
      expect(delivered).to.deep.equal([]);
    } finally {
      await writer.close();
      await repository.close();
      await pool.end();
    }
  });

  it("waits for a feed read in progress, so that no read outlives it on the caller's pool", async () => {
    const pool = adminPool();
    const repository = new PostgresExternalTaskRepository({ pool }, { schema, logger: quietLogger() });
    // The feed's reads wait at a gate once it is shut, so that one is surely in progress at the close.
    const query = pool.query.bind(pool) as (config: unknown) => Promise<unknown>;
    let gate: Promise<void> | undefined;
    let open!: () => void;
    const { promise: aReadWaits, resolve: readWaiting } = deferred();
    Object.assign(pool, {
      query: async (config: { text?: string }) => {
        if (gate && config.text?.includes('LEFT JOIN LATERAL')) {
          readWaiting();
          await gate;
        }
        return query(config);
      },
    });
    try {
      await repository.migrate();
      await repository.subscribe({ onChange: () => undefined });
      gate = new Promise<void>((resolve) => (open = resolve));
      await repository.create({
        topic: 't',
        flowNodeInstanceId: 'f',
        correlationId: 'c',
        processInstanceId: 'p',
      });
      // Offered by its own statement, so a read needs another process's change.
      await admin.pool.query(`SELECT pg_notify('${schema}', 's999')`);
      await aReadWaits;

      let closed = false;
      const closing = repository.close().then(() => (closed = true));
      for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
      expect(closed, 'closed while its read waited').to.equal(false);
      open();
      await closing;
      expect(pool.totalCount - pool.idleCount, 'connections still in use after the close').to.equal(0);
    } finally {
      open?.();
      await repository.close();
      await pool.end();
    }
  });

  it("resolves when a subscriber's callback closes the store again while a close from outside waits for it", async () => {
    const repository = new PostgresExternalTaskRepository(
      { connectionString: serverUrl },
      { schema, logger: quietLogger() },
    );
    await repository.migrate();
    const { promise: inCallback, resolve: entered } = deferred();
    const { promise: gate, resolve: release } = deferred();
    let closedInside = false;
    await repository.subscribe({
      onChange: async () => {
        entered();
        await gate;
        // The subscriber finds the application stopping and closes the store itself.
        await repository.close();
        closedInside = true;
      },
    });
    await repository.create({
      topic: 't',
      flowNodeInstanceId: 'f',
      correlationId: 'c',
      processInstanceId: 'p',
    });
    await inCallback;

    let closedOutside = false;
    const closing = repository.close().then(() => (closedOutside = true)); // a shutdown handler
    release();
    for (let turn = 0; turn < 20 && !closedOutside; turn++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect({ closedInside, closedOutside }).to.deep.equal({ closedInside: true, closedOutside: true });
    await closing;
  });
});
