import { expect } from 'chai';
import { InternalError } from '../../lib/errors/index.js';
import { PostgresExternalTaskRepository } from '../../lib/postgres/index.js';
import { freshSchema, quietLogger, requireServer, serverUrl } from './support.js';

describe('PostgresExternalTaskRepository failures of the store', function () {
  before(async function () {
    await requireServer(this);
  });

  it('rejects with an InternalError (500) carrying the driver error as cause, and close is safe twice', async () => {
    const repository = new PostgresExternalTaskRepository(
      { connectionString: serverUrl },
      { schema: freshSchema(), logger: quietLogger(), poolSize: 1 },
    );
    try {
      const error: unknown = await repository.countByTopic().then(
        () => expect.fail('expected a rejection'),
        (reason: unknown) => reason,
      );
      expect(error).to.be.instanceOf(InternalError);
      expect(error).to.include({ status: 500, code: 'INTERNAL_ERROR' });
      expect((error as InternalError).cause).to.include({ code: '3F000' }); // invalid_schema_name: not migrated
    } finally {
      await repository.close();
      await repository.close();
    }
  });

  it('rejects, never hangs, when the server cannot be reached', async () => {
    const repository = new PostgresExternalTaskRepository(
      { connectionString: 'postgres://postgres@127.0.0.1:1/none' },
      { schema: freshSchema(), logger: quietLogger() },
    );
    try {
      const error: unknown = await repository.getById('00000000-0000-4000-8000-000000000000').then(
        () => expect.fail('expected a rejection'),
        (reason: unknown) => reason,
      );
      expect(error).to.be.instanceOf(InternalError);
      expect((error as InternalError).cause).to.be.instanceOf(Error);
    } finally {
      await repository.close();
    }
  });
});
