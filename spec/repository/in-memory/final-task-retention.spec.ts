import { expect } from 'chai';
import { ManualClock } from 'external-task-api/testing';
import { BadRequestError, InMemoryExternalTaskRepository } from '../../../lib/index.js';
import { newTask, START } from '../../../lib/testing/contract/case-inputs.js';

describe('InMemoryExternalTaskRepository: finalTaskRetention', () => {
  let clock: ManualClock;

  beforeEach(() => {
    clock = new ManualClock(START);
  });

  async function finish(repository: InMemoryExternalTaskRepository, topic = 'invoice'): Promise<string> {
    const { id } = await repository.create(newTask({ topic, processInstanceId: 'pi-kept' }));
    await repository.claim({
      workerId: 'w1',
      topics: [{ topicName: topic, lockDuration: 1000 }],
      maxTasks: 1,
    });
    await repository.complete({
      externalTaskId: id,
      workerId: 'w1',
      outcome: { state: 'finished', result: 1 },
    });
    return id;
  }

  it('forgets a final task once its retention has run out, from lookups, queries and counts', async () => {
    const repository = new InMemoryExternalTaskRepository({ clock, finalTaskRetention: 10_000 });
    const id = await finish(repository);
    clock.advance(9_999);
    expect((await repository.getById(id))?.state).to.equal('finished');
    clock.advance(1);
    expect(await repository.getById(id)).to.equal(undefined);
    expect((await repository.query({ processInstanceId: 'pi-kept' })).total).to.equal(0);
    expect((await repository.countByTopic(['invoice']))[0]).to.include({ finished: 0 });
  });

  it('keeps pending tasks however old they are, and forgets final ones in the order they ended', async () => {
    const repository = new InMemoryExternalTaskRepository({ clock, finalTaskRetention: 1000 });
    const pending = await repository.create(newTask({ topic: 'other' }));
    const first = await finish(repository);
    clock.advance(500);
    const second = await finish(repository);
    clock.advance(500);
    expect(await repository.getById(first)).to.equal(undefined);
    expect(await repository.getById(second)).to.not.equal(undefined);
    clock.advance(5000);
    expect(await repository.getById(second)).to.equal(undefined);
    expect((await repository.getById(pending.id))?.state).to.equal('pending');
  });

  it('does not forget an incident brought back with setRetries', async () => {
    const repository = new InMemoryExternalTaskRepository({ clock, finalTaskRetention: 1000 });
    const { id } = await repository.create(newTask({ topic: 'invoice', retries: 1 }));
    await repository.claim({
      workerId: 'w1',
      topics: [{ topicName: 'invoice', lockDuration: 1000 }],
      maxTasks: 1,
    });
    await repository.complete({
      externalTaskId: id,
      workerId: 'w1',
      outcome: { state: 'failed', error: { type: 'service', errorMessage: 'down' } },
    });
    clock.advance(500);
    await repository.setRetries(id, 2);
    clock.advance(5000);
    expect((await repository.getById(id))?.state).to.equal('pending');
  });

  it('keeps final tasks for 7 days by default', async () => {
    const repository = new InMemoryExternalTaskRepository({ clock });
    const id = await finish(repository);
    clock.advance(7 * 24 * 3600 * 1000 - 1);
    expect((await repository.getById(id))?.state).to.equal('finished');
    clock.advance(1);
    expect(await repository.getById(id)).to.equal(undefined);
  });

  it('keeps final tasks for the life of the store with a retention of Infinity', async () => {
    const repository = new InMemoryExternalTaskRepository({ clock, finalTaskRetention: Infinity });
    const id = await finish(repository);
    clock.advance(365 * 24 * 3600 * 1000);
    expect((await repository.getById(id))?.state).to.equal('finished');
  });

  it('frees the idempotency key of a task it forgot: a create with the key makes a new task', async () => {
    const repository = new InMemoryExternalTaskRepository({ clock, finalTaskRetention: 1000 });
    const first = await repository.create(newTask({ topic: 'invoice', idempotencyKey: 'fni-9' }));
    await repository.cancel({ externalTaskId: first.id });
    clock.advance(999);
    expect((await repository.create(newTask({ idempotencyKey: 'fni-9' }))).id).to.equal(first.id);
    clock.advance(1);
    const second = await repository.create(newTask({ idempotencyKey: 'fni-9' }));
    expect(second.id).to.not.equal(first.id);
    expect(second.state).to.equal('pending');
  });

  it('refuses a retention that is not a non-negative integer of at most 1,000 years (or Infinity)', () => {
    const millennium = 1000 * 365.25 * 24 * 3600 * 1000;
    expect(new InMemoryExternalTaskRepository({ finalTaskRetention: millennium })).to.be.an('object');
    for (const finalTaskRetention of [-1, 1.5, NaN, millennium + 1, Number.MAX_SAFE_INTEGER]) {
      expect(() => new InMemoryExternalTaskRepository({ finalTaskRetention }))
        .to.throw(BadRequestError)
        .with.property('argument', 'finalTaskRetention');
    }
  });

  it('a task finished after a retried failure no longer carries that failure', async () => {
    const repository = new InMemoryExternalTaskRepository({ clock });
    const { id } = await repository.create(newTask({ topic: 'invoice' }));
    const claim = { workerId: 'w1', topics: [{ topicName: 'invoice', lockDuration: 1000 }], maxTasks: 1 };
    await repository.claim(claim);
    await repository.complete({
      externalTaskId: id,
      workerId: 'w1',
      outcome: {
        state: 'failed',
        error: { type: 'service', errorMessage: 'down' },
        retry: { retries: 1, retryTimeout: 0 },
      },
    });
    expect((await repository.getById(id))?.error).to.deep.equal({ type: 'service', errorMessage: 'down' });
    await repository.claim(claim);
    await repository.complete({
      externalTaskId: id,
      workerId: 'w1',
      outcome: { state: 'finished', result: 'ok' },
    });
    const finished = await repository.getById(id);
    expect(finished).to.include({ state: 'finished', result: 'ok' });
    expect(finished).to.not.have.property('error');
  });
});
