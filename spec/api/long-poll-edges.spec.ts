import { expect } from 'chai';
import {
  ExternalTaskApi,
  InMemoryExternalTaskRepository,
  type ExternalTask,
  type ExternalTaskRepository,
} from '../../lib/index.js';
import { identity, newTask, useApiTestbed } from '../support/fixtures.js';

const minute = 60_000;

describe('long polling: edge cases', () => {
  const bed = useApiTestbed();

  it('with tenant scopes, a task the first waiter may not see wakes the next waiter who may', async () => {
    const repository = new InMemoryExternalTaskRepository();
    const api = new ExternalTaskApi({
      repository,
      accessPolicy: {
        authorize: () => undefined,
        scope: (caller) => ({ tenantIds: [caller?.token as string] }),
      },
    });
    try {
      let answeredA: ExternalTask[] | undefined;
      let answeredB: ExternalTask[] | undefined;
      void api
        .fetchAndLockExternalTasks({ token: 'a' }, 'wa', 'invoice', 1, minute, minute)
        .then((t) => (answeredA = t));
      void api
        .fetchAndLockExternalTasks({ token: 'b' }, 'wb', 'invoice', 1, minute, minute)
        .then((t) => (answeredB = t));
      await bed.clock.tickAsync(100);
      const task = await repository.create(newTask('invoice', { tenantId: 'b' }));
      await bed.clock.tickAsync(0);
      expect(answeredB?.map((t) => t.id)).to.deep.equal([task.id]);
      expect(answeredA).to.equal(undefined);
    } finally {
      await api.close();
    }
  });

  it('with two tenants, no task waits while a poller whose scope covers it waits', async () => {
    const repository = new InMemoryExternalTaskRepository();
    const claims: string[] = [];
    const claim = repository.claim.bind(repository);
    repository.claim = (request) => {
      claims.push(request.workerId);
      return claim(request);
    };
    const api = new ExternalTaskApi({
      repository,
      accessPolicy: {
        authorize: () => undefined,
        scope: (caller) => (caller?.token === 'all' ? undefined : { tenantIds: [caller?.token as string] }),
      },
    });
    try {
      const answers = new Map<string, ExternalTask[]>();
      for (const [token, workerId] of [
        ['a', 'a1'],
        ['a', 'a2'],
        ['b', 'b1'],
        ['a', 'a3'],
        ['b', 'b2'],
      ] as const) {
        void api
          .fetchAndLockExternalTasks({ token }, workerId, 'invoice', 1, minute, minute)
          .then((tasks) => answers.set(workerId, tasks));
      }
      await bed.clock.tickAsync(100);
      claims.length = 0;
      const forB = await repository.create(newTask('invoice', { tenantId: 'b' }));
      await bed.clock.tickAsync(0);
      // a1 finds nothing; a2 and a3 share its scope and are skipped; b1 takes the task. It got all it
      // asked for, so the topic is tried once more: a1 and b2 (a scope of its own) find nothing.
      expect(claims).to.deep.equal(['a1', 'b1', 'a1', 'b2']);
      expect(answers.get('b1')?.map((t) => t.id)).to.deep.equal([forB.id]);
      claims.length = 0;
      const [forA1, forA2] = await repository.createMany([
        newTask('invoice', { tenantId: 'a' }),
        newTask('invoice', { tenantId: 'a' }),
      ]);
      await bed.clock.tickAsync(0);
      expect(answers.get('a1')?.map((t) => t.id)).to.deep.equal([forA1?.id]);
      expect(answers.get('a2')?.map((t) => t.id)).to.deep.equal([forA2?.id]);
      expect(answers.has('a3')).to.equal(false);
      expect(answers.has('b2')).to.equal(false);
      expect(claims).to.deep.equal(['a1', 'a2', 'a3', 'b2']);
      const all = await repository.create(newTask('invoice'));
      const unscoped = await api.fetchAndLockExternalTasks({ token: 'all' }, 'x', 'invoice', 5, 0, minute);
      expect(unscoped.map((t) => t.id)).to.deep.equal([all.id]);
    } finally {
      await api.close();
    }
  });

  it('does not miss a retry that comes due between a fetch’s first claim and the start of its wait', async () => {
    const { repository } = bed;
    const { id } = await repository.create(newTask());
    await repository.claim({
      workerId: 'w1',
      topics: [{ topicName: 'invoice', lockDuration: minute }],
      maxTasks: 1,
    });
    await repository.complete({
      externalTaskId: id,
      workerId: 'w1',
      outcome: {
        state: 'failed',
        error: { type: 'service', errorMessage: 'x' },
        retry: { retries: 1, retryTimeout: 1000 },
      },
    });
    await bed.clock.tickAsync(999);
    // The first claim finds nothing; the retry comes due (1 ms passes) before the poll starts waiting.
    const racing = Object.create(repository) as ExternalTaskRepository;
    racing.claim = async (request) => {
      const tasks = await repository.claim(request);
      bed.clock.tick(1);
      return tasks;
    };
    const api = new ExternalTaskApi({ repository: racing });
    try {
      let answered: ExternalTask[] | undefined;
      void api
        .fetchAndLockExternalTasks(identity, 'w2', 'invoice', 1, 30_000, minute)
        .then((t) => (answered = t));
      await bed.clock.tickAsync(0);
      expect(answered?.map((t) => t.id)).to.deep.equal([id]);
    } finally {
      await api.close();
    }
  });

  it('a fetch whose signal has already aborted claims nothing', async () => {
    const { id } = await bed.repository.create(newTask());
    const tasks = await bed.api.fetchAndLock(identity, {
      workerId: 'w1',
      topics: [{ topicName: 'invoice', lockDuration: minute }],
      maxTasks: 1,
      signal: AbortSignal.abort(),
    });
    expect(tasks).to.deep.equal([]);
    expect((await bed.repository.getById(id))?.workerId).to.equal(undefined);
  });
});

describe('a closed api', () => {
  const bed = useApiTestbed();

  it('claims nothing: later fetches answer [] and leave the tasks available', async () => {
    const { id } = await bed.repository.create(newTask());
    await bed.api.close();
    expect(
      await bed.api.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 1, minute, minute),
    ).to.deep.equal([]);
    expect((await bed.repository.getById(id))?.workerId).to.equal(undefined);
    expect(bed.clock.countTimers()).to.equal(0);
  });

  it('rejects a later waitForOutcome with an AbortError instead of waiting for ever', async () => {
    const { id } = await bed.repository.create(newTask());
    await bed.api.close();
    const error: unknown = await bed.api.waitForOutcome(id).catch((caught: unknown) => caught);
    expect(error).to.have.property('name', 'AbortError');
  });
});
