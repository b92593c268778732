import { expect } from 'chai';
import { ExternalTaskApi } from '../../lib/index.js';
import { PostgresExternalTaskRepository } from '../../lib/postgres/index.js';
import { deferred, identity } from '../support/fixtures.js';
import { dropSchema, freshSchema, quietLogger, serverUrl, useServerAdmin } from './support.js';

const newTask = (i: number) => ({
  topic: 't',
  flowNodeInstanceId: `f-${i}`,
  correlationId: 'c',
  processInstanceId: 'p',
});
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('PostgresExternalTaskRepository.close and callbacks', function () {
  this.timeout(30_000);
  const admin = useServerAdmin();
  let schema: string;
  beforeEach(() => (schema = freshSchema()));
  afterEach(async () => dropSchema(admin.pool, schema));

  /** A store on this test's schema, migrated. */
  async function migratedStore(): Promise<PostgresExternalTaskRepository> {
    const repository = new PostgresExternalTaskRepository(
      { connectionString: serverUrl },
      { schema, logger: quietLogger() },
    );
    await repository.migrate();
    return repository;
  }

  /** 'closed' once `closed` resolves, or 'hung' if it has not within 5 s. */
  const closedOrHung = (closed: Promise<void>): Promise<string> =>
    Promise.race([closed.then(() => 'closed'), pause(5000).then(() => 'hung')]);

  it("resolves when a subscriber's callback closes the store first", async () => {
    const repository = await migratedStore();
    const { promise: closed, resolve: closedInside } = deferred();
    await repository.subscribe({
      onChange: async () => {
        await repository.close();
        closedInside();
      },
    });
    await repository.create(newTask(0));
    expect(await closedOrHung(closed)).to.equal('closed');
  });

  it('resolves when onOutcome closes the api first, on the PostgreSQL store', async () => {
    const repository = await migratedStore();
    const api = new ExternalTaskApi({ repository });
    const { promise: closed, resolve: closedInside } = deferred();
    await api.consumeOutcomes({
      after: 'now',
      onOutcome: async () => {
        await api.close();
        await repository.close();
        closedInside();
      },
    });
    const { id } = await repository.create({ ...newTask(0), topic: 'invoice' });
    await api.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 1, 0, 60_000);
    await api.finishExternalTask(identity, 'w1', id, {});
    expect(await closedOrHung(closed)).to.equal('closed');
  });

  it('a close from work a finished callback started waits for the close under way', async () => {
    const repository = await migratedStore();
    const { promise: gate, resolve: release } = deferred();
    const { promise: inSecond, resolve: entered } = deferred();
    const { promise: triggered, resolve: trigger } = deferred();
    let backgroundClosed = false;
    let changes = 0;
    await repository.subscribe({
      onChange: async () => {
        changes++;
        if (changes === 1) {
          // A background job the first change starts, which shuts the application down when told to.
          void (async () => {
            await triggered;
            await repository.close();
            backgroundClosed = true;
          })();
          return;
        }
        entered();
        await gate;
      },
    });
    await repository.create(newTask(0));
    await repository.create(newTask(1));
    await inSecond;

    let closedOutside = false;
    const closing = repository.close().then(() => (closedOutside = true));
    trigger();
    await pause(200);
    expect({ backgroundClosed, closedOutside }).to.deep.equal({
      backgroundClosed: false,
      closedOutside: false,
    });
    release();
    await closing;
  });

  it('a synchronous onChange that returned: the queued close waits for the close under way', async () => {
    const repository = await migratedStore();
    let closedFirst = false;
    let seen: boolean | undefined;
    const { promise: backgroundDone, resolve: done } = deferred();
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
