import { expect } from 'chai';
import type sinon from 'sinon';
import { BadRequestError, InMemoryExternalTaskRepository, type Logger } from '../../../lib/index.js';
import { newTask, rejectionOf, useFakeTime } from '../../support/fixtures.js';

const quiet: Logger = { error: () => undefined, warn: () => undefined };
const claimOf = (workerId: string, maxTasks = 10) => ({
  workerId,
  topics: [{ topicName: 'invoice', lockDuration: 60_000 }],
  maxTasks,
});

describe('InMemoryExternalTaskRepository: robustness', () => {
  let clock: sinon.SinonFakeTimers;

  beforeEach(() => {
    clock = useFakeTime();
  });

  afterEach(() => clock.restore());

  it('a visibility check that throws counts as "not visible": nothing is half claimed', async () => {
    const repository = new InMemoryExternalTaskRepository({ logger: quiet });
    const [a, b, c] = [
      await repository.create(newTask('invoice', { payload: 'a' })),
      await repository.create(newTask('invoice', { payload: 'b' })),
      await repository.create(newTask('invoice', { payload: 'c' })),
    ];
    const claimed = await repository.claim({
      ...claimOf('w1'),
      isVisible: (task) => {
        if (task.payload === 'c') throw new Error('policy bug');
        return task.payload === 'a';
      },
    });
    expect(claimed.map((task) => task.id)).to.deep.equal([a.id]);
    expect((await repository.claim(claimOf('w2'))).map((task) => task.id)).to.deep.equal([b.id, c.id]);
    expect((await repository.countByTopic(['invoice']))[0]).to.include({ available: 0, locked: 3 });
  });

  it('refuses a value nested deeper than limits.maxJsonDepth with a 400 naming the path, not a stack overflow', async () => {
    const repository = new InMemoryExternalTaskRepository();
    let deep: unknown = {};
    for (let i = 0; i < 5000; i++) deep = { a: deep };
    const error = await rejectionOf(repository.create(newTask('invoice', { payload: deep })));
    expect(error).to.be.instanceOf(BadRequestError);
    expect((error as BadRequestError).argument).to.match(/^payload(\.a)+$/);
    let fine: unknown = 1;
    for (let i = 0; i < 100; i++) fine = { a: fine };
    expect((await repository.create(newTask('invoice', { payload: fine }))).state).to.equal('pending');
  });

  it('forgets a task once even when it ended twice in one millisecond (retention counts stay right)', async () => {
    const repository = new InMemoryExternalTaskRepository({ finalTaskRetention: 1000 });
    const finished = await repository.create(newTask('invoice'));
    const twice = await repository.create(newTask('invoice', { retries: 1 }));
    const fail = { state: 'failed' as const, error: { type: 'service' as const, errorMessage: 'down' } };
    await repository.claim(claimOf('w1', 2));
    await repository.complete({
      externalTaskId: finished.id,
      workerId: 'w1',
      outcome: { state: 'finished' },
    });
    await repository.complete({ externalTaskId: twice.id, workerId: 'w1', outcome: fail });
    await repository.setRetries(twice.id, 1);
    await repository.claim(claimOf('w1'));
    await repository.complete({ externalTaskId: twice.id, workerId: 'w1', outcome: fail });
    await clock.tickAsync(1000);
    expect((await repository.countByTopic(['invoice']))[0]).to.include({
      finished: 0,
      failed: 0,
      incidents: 0,
    });
  });

  it('refuses null where a number is expected, rather than taking the default', async () => {
    const repository = new InMemoryExternalTaskRepository();
    const error = await rejectionOf(
      repository.create(newTask('invoice', { priority: null as unknown as number })),
    );
    expect(error).to.be.instanceOf(BadRequestError).and.include({ argument: 'priority' });
  });

  it('refuses topic names for counts that are not a list of names', async () => {
    const repository = new InMemoryExternalTaskRepository();
    for (const [topicNames, argument] of [
      ['invoice', 'topicNames'],
      [[''], 'topicNames[0]'],
    ] as const) {
      const error = await rejectionOf(repository.countByTopic(topicNames as unknown as string[]));
      expect(error).to.be.instanceOf(BadRequestError).and.include({ argument });
    }
  });
});
