import { expect } from 'chai';
import type { ExternalTask, ExternalTaskChange } from '../../../lib/index.js';
import { InMemoryExternalTaskRepository } from '../../../lib/repository/in-memory/index.js';
import { ManualClock } from 'external-task-api/testing';
import { newTask } from '../../../lib/testing/contract/case-inputs.js';

const START = Date.UTC(2026, 0, 1);
const TOPICS = [{ topicName: 'topic', lockDuration: 1000 }];

/** Every way a receiver could try to change a record: its fields, its dates, and new fields. */
function mutationAttempts(record: ExternalTask): (() => unknown)[] {
  const fields = record as unknown as Record<string, unknown>;
  return [
    () => (fields.state = 'finished'),
    () => (fields.workerId = 'intruder'),
    () => (fields.extra = 1),
    () => delete fields.topic,
    () => record.createdAt.setTime(0),
    () => ((record.createdAt as unknown as Record<string, unknown>).extra = 1),
    ...(record.lockExpirationTime ? [() => record.lockExpirationTime!.setFullYear(2000)] : []),
  ];
}

describe('InMemoryExternalTaskRepository: one frozen record per change', () => {
  it('hands the caller and every subscriber the same record, which none of them can change', async () => {
    const repository = new InMemoryExternalTaskRepository({ clock: new ManualClock(START) });
    const first: ExternalTaskChange[] = [];
    const second: ExternalTaskChange[] = [];
    await repository.subscribe({ onChange: (change) => void first.push(change) });
    await repository.subscribe({ onChange: (change) => void second.push(change) });

    const created = await repository.create(newTask({ topic: 'topic' }));
    const [claimed] = await repository.claim({ workerId: 'worker', topics: TOPICS, maxTasks: 1 });

    expect(first.map((change) => change.task)).to.deep.equal([created, claimed]);
    expect(first[0]!.task).to.equal(created);
    expect(first[1]!.task).to.equal(claimed);
    expect(second[1]!.task).to.equal(claimed);
    expect(second[1]).to.equal(first[1]);
    for (const record of [created, claimed!]) {
      expect(Object.isFrozen(record)).to.equal(true);
      expect(Object.isFrozen(record.createdAt)).to.equal(true);
      for (const attempt of mutationAttempts(record)) expect(attempt).to.throw(TypeError);
    }
    expect(Object.isFrozen(first[1])).to.equal(true);
    expect(() => ((first[1] as { position: number }).position = 0)).to.throw(TypeError);

    const stored = await repository.getById(created.id);
    expect(stored).to.include({ state: 'pending', workerId: 'worker', topic: 'topic' });
    expect(stored?.createdAt.getTime()).to.equal(START);
    expect(stored?.lockExpirationTime?.getTime()).to.equal(START + 1000);
    expect(claimed?.lockExpirationTime?.getTime()).to.equal(START + 1000);
  });

  it('keeps the record of an earlier change as it was when the task changes again', async () => {
    const repository = new InMemoryExternalTaskRepository({ clock: new ManualClock(START) });
    const created = await repository.create(newTask({ topic: 'topic' }));
    const [claimed] = await repository.claim({ workerId: 'worker', topics: TOPICS, maxTasks: 1 });
    await repository.complete({
      externalTaskId: created.id,
      workerId: 'worker',
      outcome: { state: 'finished' },
    });

    expect(created).to.include({ state: 'pending', attempts: 0 });
    expect(created).not.to.have.property('workerId');
    expect(claimed).to.include({ state: 'pending', workerId: 'worker', attempts: 1 });
    expect(await repository.getById(created.id)).to.include({ state: 'finished' });
  });

  it('lets the records of tasks created, locked or finished in the same millisecond share their dates', async () => {
    const repository = new InMemoryExternalTaskRepository({ clock: new ManualClock(START) });
    const [first, second] = await repository.createMany([
      newTask({ topic: 'topic' }),
      newTask({ topic: 'topic' }),
    ]);
    const claimed = await repository.claim({ workerId: 'worker', topics: TOPICS, maxTasks: 2 });

    expect(second!.createdAt).to.equal(first!.createdAt);
    expect(claimed[1]!.lockExpirationTime).to.equal(claimed[0]!.lockExpirationTime);
    // A shared date is as unchangeable as any: no receiver can change another's.
    expect(() => first!.createdAt.setTime(0)).to.throw(TypeError);
    expect(second!.createdAt.getTime()).to.equal(START);
    expect(claimed[0]!.lockExpirationTime!.getTime()).to.equal(START + 1000);
  });
});
