import { expect } from 'chai';
import { ManualClock } from 'external-task-api/testing';
import { BadRequestError, InMemoryExternalTaskRepository, type Logger } from '../../../lib/index.js';
import { newTask, START } from '../../../lib/testing/contract/case-inputs.js';
import { expectBadRequest, rejectionOf } from '../../../lib/testing/contract/expectations.js';

const quiet: Logger = { error: () => undefined, warn: () => undefined };
const claimOf = (workerId: string, maxTasks = 10) => ({
  workerId,
  topics: [{ topicName: 'invoice', lockDuration: 60_000 }],
  maxTasks,
});

describe('InMemoryExternalTaskRepository: robustness', () => {
  it('a scope is decided inside the claim: nothing outside it is half claimed', async () => {
    const repository = new InMemoryExternalTaskRepository({ logger: quiet });
    const [a, b, c] = [
      await repository.create(newTask({ topic: 'invoice', tenantId: 'a' })),
      await repository.create(newTask({ topic: 'invoice', tenantId: 'b' })),
      await repository.create(newTask({ topic: 'invoice' })),
    ];
    const claimed = await repository.claim({ ...claimOf('w1'), scope: { tenantIds: ['a'] } });
    expect(claimed.map((task) => task.id)).to.deep.equal([a.id]);
    expect((await repository.claim(claimOf('w2'))).map((task) => task.id)).to.deep.equal([b.id, c.id]);
    expect((await repository.countByTopic(['invoice']))[0]).to.include({ available: 0, locked: 3 });
  });

  it('refuses a value nested deeper than limits.maxJsonDepth with a 400 naming the path, not a stack overflow', async () => {
    const repository = new InMemoryExternalTaskRepository();
    let deep: unknown = {};
    for (let i = 0; i < 5000; i++) deep = { a: deep };
    const error = await rejectionOf(repository.create(newTask({ topic: 'invoice', payload: deep })));
    expect(error).to.be.instanceOf(BadRequestError);
    expect((error as BadRequestError).argument).to.match(/^payload(\.a)+$/);
    let fine: unknown = 1;
    for (let i = 0; i < 100; i++) fine = { a: fine };
    expect((await repository.create(newTask({ topic: 'invoice', payload: fine }))).state).to.equal('pending');
  });

  it('forgets a task once even when it ended twice in one millisecond (retention counts stay right)', async () => {
    const clock = new ManualClock(START);
    const repository = new InMemoryExternalTaskRepository({ clock, finalTaskRetention: 1000 });
    const finished = await repository.create(newTask({ topic: 'invoice' }));
    const twice = await repository.create(newTask({ topic: 'invoice', retries: 1 }));
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
    clock.advance(1000);
    expect((await repository.countByTopic(['invoice']))[0]).to.include({
      finished: 0,
      failed: 0,
      bpmnErrors: 0,
      serviceErrors: 0,
      incidents: 0,
    });
  });

  it('refuses null where a number is expected, rather than taking the default', async () => {
    const repository = new InMemoryExternalTaskRepository();
    const error = await rejectionOf(
      repository.create(newTask({ topic: 'invoice', priority: null as unknown as number })),
    );
    expect(error).to.be.instanceOf(BadRequestError).and.include({ argument: 'priority' });
  });

  it('refuses topic names for counts that are not a list of names', async () => {
    const repository = new InMemoryExternalTaskRepository();
    for (const [filter, argument] of [
      ['invoice', 'filter'],
      [[''], 'topicNames[0]'],
      [{ topics: 'invoice' }, 'topics'],
      [{ topics: [''] }, 'topics[0]'],
    ] as const) {
      await expectBadRequest(repository.countByTopic(filter as unknown as string[]), argument);
    }
  });
});
