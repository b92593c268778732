import type { ManualClock } from '../../lib/clock/index.js';
import { PostgresExternalTaskRepository, type PostgresConnection } from '../../lib/postgres/index.js';
import { describeRepositoryContract, type RepositoryContractTestbed } from '../../lib/testing/index.js';
import { dropSchema, freshSchema, quietLogger, useServerAdmin, serverUrl, sharedPglite } from './support.js';

/** A migrated store in a fresh schema, dropped (through `database`) when the test bed closes. */
async function testbed(
  connection: PostgresConnection,
  database: { query(text: string): Promise<unknown> },
  clock: ManualClock,
): Promise<RepositoryContractTestbed> {
  const schema = freshSchema();
  const repository = new PostgresExternalTaskRepository(connection, {
    schema,
    clock,
    logger: quietLogger(),
    poolSize: 4,
  });
  await repository.migrate();
  return {
    repository,
    close: async () => {
      await repository.close();
      await dropSchema(database, schema);
    },
  };
}

describe('PostgresExternalTaskRepository contract', () => {
  describe('on the server', function () {
    const admin = useServerAdmin();

    describeRepositoryContract('PostgresExternalTaskRepository (server)', ({ clock }) =>
      testbed({ connectionString: serverUrl }, admin.pool, clock),
    );
  });

  describe('on PGlite', function () {
    // PGlite takes seconds to open: one instance for every test, a fresh schema for each.
    this.timeout(60_000);

    before(async () => {
      await sharedPglite();
    });

    describeRepositoryContract('PostgresExternalTaskRepository (PGlite)', async ({ clock }) => {
      const pglite = await sharedPglite();
      return testbed({ pglite }, pglite, clock);
    });
  });
});
