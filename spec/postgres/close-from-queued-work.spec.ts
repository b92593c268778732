import { expect } from 'chai';
import { PostgresExternalTaskRepository } from '../../lib/postgres/index.js';
import { dropSchema, freshSchema, quietLogger, serverUrl, useServerAdmin } from './support.js';

const newTask = (i: number) => ({
  topic: 't',
  flowNodeInstanceId: `f-${i}`,
  correlationId: 'c',
  processInstanceId: 'p',
});

describe('PostgresExternalTaskRepository.close from a microtask a synchronous callback queued', function () {
  this.timeout(30_000);
  const admin = useServerAdmin();
  let schema: string;
  beforeEach(() => (schema = freshSchema()));
  afterEach(async () => dropSchema(admin.pool, schema));

  it('a synchronous onChange that returned: the queued close waits for the close under way', async () => {
    const repository = new PostgresExternalTaskRepository(
      { connectionString: serverUrl },
      { schema, logger: quietLogger() },
    );
    await repository.migrate();
    let closedFirst = false;
    let seen: boolean | undefined;
    let done!: () => void;
    const backgroundDone = new Promise<void>((resolve) => (done = resolve));
    await repository.subscribe({
      onChange: () => {
        void repository.close().then(() => (closedFirst = true));
        // Runs after onChange returned.
        void Promise.resolve().then(async () => {
          await repository.close();
          seen = closedFirst;
          done();
        });
      },
    });
    await repository.create(newTask(0));
    await backgroundDone;
    expect(seen, 'the close under way had resolved when the queued close did').to.equal(true);
  });
});
