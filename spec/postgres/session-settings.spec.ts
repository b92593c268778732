import { expect } from 'chai';
import pg from 'pg';
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
      expect(await settingOf(callers, 'plan_cache_mode')).to.equal('auto');
    } finally {
      await own.close();
      await callers.close();
      await pool.end();
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
