import { expect } from 'chai';
import { ExternalTaskApi, InMemoryExternalTaskRepository } from '../../lib/index.js';
import { identity, newTask } from '../support/fixtures.js';

const turns = async (count: number): Promise<void> => {
  for (let turn = 0; turn < count; turn++) await new Promise((resolve) => setImmediate(resolve));
};

describe('ExternalTaskApi.close from inside an outcome consumer', () => {
  it('resolves when onOutcome closes the api while a close from outside waits for that outcome', async () => {
    const repository = new InMemoryExternalTaskRepository();
    const api = new ExternalTaskApi({ repository });
    let entered!: () => void;
    const inOutcome = new Promise<void>((resolve) => (entered = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
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
});
