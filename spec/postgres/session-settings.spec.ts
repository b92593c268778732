import { expect } from 'chai';
import pg from 'pg';
import sinon from 'sinon';
import { BadRequestError } from '../../lib/errors/index.js';
import { PostgresExternalTaskRepository } from '../../lib/postgres/index.js';
import type { Driver } from '../../lib/postgres/driver/driver.js';
import { freshSchema, quietLogger, requireServer, serverUrl, sharedPglite } from './support.js';

/** A session setting as the store's own statements see it. */
async function settingOf(repository: PostgresExternalTaskRepository, name: string): Promise<string> {
  const driver = (repository as unknown as { driver: Driver }).driver;
  const [row] = await driver.query<Record<string, string>>(`SHOW ${name}`);
  return row![name]!;
}

describe('PostgresExternalTaskRepository session settings', function () {
  this.timeout(30_000);

  before(async function () {
    await requireServer(this);
  });

  it("leaves the server's durable default, and sets synchronous_commit off on its own pool when false", async () => {
    const durable = new PostgresExternalTaskRepository(
      { connectionString: serverUrl },
      { schema: freshSchema(), logger: quietLogger() },
    );
    const fast = new PostgresExternalTaskRepository(
      { connectionString: serverUrl },
      { schema: freshSchema(), logger: quietLogger(), synchronousCommit: false },
    );
    try {
      expect(await settingOf(durable, 'synchronous_commit')).to.equal('on');
      expect(await settingOf(fast, 'synchronous_commit')).to.equal('off');
    } finally {
      await durable.close();
      await fast.close();
    }
  });

  it("plans its statements generically, without JIT, on its own pool, and leaves a caller's pool as it is", async () => {
    const own = new PostgresExternalTaskRepository(
      { connectionString: serverUrl },
      { schema: freshSchema(), logger: quietLogger(), synchronousCommit: false },
    );
    const pool = new pg.Pool({ connectionString: serverUrl, max: 1 });
    const callers = new PostgresExternalTaskRepository(
      { pool },
      { schema: freshSchema(), logger: quietLogger() },
    );
    try {
      expect(await settingOf(own, 'plan_cache_mode')).to.equal('force_generic_plan');
      expect(await settingOf(own, 'jit')).to.equal('off');
      expect(await settingOf(own, 'synchronous_commit')).to.equal('off');
      // The server's default, as a plain connection sees it.
      const [plain] = (await pool.query<{ plan_cache_mode: string }>('SHOW plan_cache_mode')).rows;
      expect(await settingOf(callers, 'plan_cache_mode')).to.equal(plain!.plan_cache_mode);
    } finally {
      await own.close();
      await callers.close();
      await pool.end();
    }
  });

  it('keeps the options of the connection string and of PGOPTIONS beside its own', async () => {
    const previous = process.env.PGOPTIONS;
    process.env.PGOPTIONS = '-c statement_timeout=4321';
    const fromEnvironment = new PostgresExternalTaskRepository(
      { connectionString: serverUrl },
      { schema: freshSchema(), logger: quietLogger(), statementTimeout: 0 },
    );
    const fromString = new PostgresExternalTaskRepository(
      { connectionString: `${serverUrl}?options=${encodeURIComponent('-c lock_timeout=1234')}` },
      { schema: freshSchema(), logger: quietLogger(), synchronousCommit: false },
    );
    try {
      expect(await settingOf(fromEnvironment, 'statement_timeout')).to.equal('4321ms');
      expect(await settingOf(fromEnvironment, 'plan_cache_mode')).to.equal('force_generic_plan');
      expect(await settingOf(fromString, 'lock_timeout')).to.equal('1234ms');
      expect(await settingOf(fromString, 'plan_cache_mode')).to.equal('force_generic_plan');
      expect(await settingOf(fromString, 'synchronous_commit')).to.equal('off');
    } finally {
      if (previous === undefined) delete process.env.PGOPTIONS;
      else process.env.PGOPTIONS = previous;
      await fromEnvironment.close();
      await fromString.close();
    }
  });

  it('plans the reads whose plan depends on their values for those values', async () => {
    const own = new PostgresExternalTaskRepository(
      { connectionString: serverUrl },
      { schema: freshSchema(), logger: quietLogger() },
    );
    try {
      await own.migrate();
      const driver = (own as unknown as { driver: Driver }).driver;
      const [row] = await driver.queryPlannedForValues<{ plan_cache_mode: string }>('SHOW plan_cache_mode');
      expect(row!.plan_cache_mode).to.equal('force_custom_plan');
      expect(await settingOf(own, 'plan_cache_mode')).to.equal('force_generic_plan');
      // The operator's queries and counts go that way.
      const planned = sinon.spy(driver, 'queryPlannedForValues');
      await own.query({ state: 'pending', topic: 'any' });
      await own.countByTopic();
      expect(planned.callCount).to.equal(2);
    } finally {
      await own.close();
    }
  });

  it('refuses synchronousCommit false with a pool or a PGlite of the caller, and a value that is not a boolean', async () => {
    const pool = new pg.Pool({ connectionString: serverUrl, max: 1 });
    const pglite = await sharedPglite();
    try {
      for (const connection of [{ pool }, { pglite }]) {
        expect(
          () =>
            new PostgresExternalTaskRepository(connection, {
              schema: freshSchema(),
              synchronousCommit: false,
            }),
        )
          .to.throw(BadRequestError, 'synchronousCommit applies to the pool the store opens')
          .with.property('argument', 'synchronousCommit');
      }
      expect(
        () =>
          new PostgresExternalTaskRepository(
            { connectionString: serverUrl },
            { schema: freshSchema(), synchronousCommit: 'off' as unknown as boolean },
          ),
      )
        .to.throw(BadRequestError, 'synchronousCommit must be true or false')
        .with.property('argument', 'synchronousCommit');
    } finally {
      await pool.end();
    }
  });
});
