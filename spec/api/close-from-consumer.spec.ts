import { expect } from 'chai';
import { ExternalTaskApi, InMemoryExternalTaskRepository } from '../../lib/index.js';
import { deferred, identity, newTask } from '../support/fixtures.js';

const turns = async (count: number): Promise<void> => {
  for (let turn = 0; turn < count; turn++) await new Promise((resolve) => setImmediate(resolve));
};

describe('ExternalTaskApi.close from inside an outcome consumer, and from work it started', () => {
  it('resolves when onOutcome closes the api while a close from outside waits for that outcome', async () => {
    const repository = new InMemoryExternalTaskRepository();
    const api = new ExternalTaskApi({ repository });
    const { promise: inOutcome, resolve: entered } = deferred();
    const { promise: gate, resolve: release } = deferred();
    let closedInside = false;
    await api.consumeOutcomes({
      after: 0,
      onOutcome: async () => {
        entered();
        await gate;
        // The consumer finds the application stopping (say a fatal error) and closes the api itself.
        await api.close();
        closedInside = true;
      },
    });
    const { id } = await repository.create(newTask());
    await api.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 1, 0, 60_000);
    await api.finishExternalTask(identity, 'w1', id, {});
    await inOutcome;

    let closedOutside = false;
    const closing = api.close().then(() => (closedOutside = true)); // a shutdown handler
    release();
    await turns(20);

    expect({ closedInside, closedOutside }).to.deep.equal({ closedInside: true, closedOutside: true });
    await closing;
  });

  it('does not resolve before the close under way, once the callback that started the work is done', async () => {
    const repository = new InMemoryExternalTaskRepository();
    const api = new ExternalTaskApi({ repository });
    const { promise: gate, resolve: release } = deferred();
    const { promise: inSecond, resolve: entered } = deferred();
    let backgroundClosed = false;
    const { promise: triggered, resolve: trigger } = deferred();
    let outcomes = 0;
    await api.consumeOutcomes({
      after: 0,
      onOutcome: async () => {
        outcomes++;
        if (outcomes === 1) {
          // A background job the first outcome starts (say a periodic flush of positions) that shuts the
          // application down when told to.
          void (async () => {
            await triggered;
            await api.close();
            backgroundClosed = true;
          })();
          return;
        }
        entered();
        await gate;
      },
    });
    for (const worker of ['w1', 'w2']) {
      const { id } = await repository.create(newTask());
      await api.fetchAndLockExternalTasks(identity, worker, 'invoice', 1, 0, 60_000);
      await api.finishExternalTask(identity, worker, id, {});
    }
    await inSecond;

    let closedOutside = false;
    const closing = api.close().then(() => (closedOutside = true)); // a shutdown handler
    trigger();
    await turns(20);
    // The close under way still waits for the second onOutcome; the background job's close must too.
    expect({ backgroundClosed, closedOutside }).to.deep.equal({
      backgroundClosed: false,
      closedOutside: false,
    });
    release();
    await closing;
  });
});
