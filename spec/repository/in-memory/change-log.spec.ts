import { expect } from 'chai';
import { ManualClock } from 'external-task-api/testing';
import {
  BadRequestError,
  InMemoryExternalTaskRepository,
  type ExternalTask,
  type ExternalTaskChange,
  type JsonValue,
} from '../../../lib/index.js';
import { newTask, START } from '../../../lib/testing/contract/case-inputs.js';

const TOPIC = 'topic';
const claimOf = (workerId: string, lockDuration = 1000) => ({
  workerId,
  topics: [{ topicName: TOPIC, lockDuration }],
  maxTasks: 1,
});

/** Every frozen part of a change: the entry, its record and the record's dates. */
function expectFrozen(change: ExternalTaskChange): void {
  expect(Object.isFrozen(change), `change ${change.position} is frozen`).to.equal(true);
  const record = change.task as ExternalTask & Record<string, unknown>;
  expect(Object.isFrozen(record), `the record of change ${change.position} is frozen`).to.equal(true);
  for (const value of Object.values(record)) {
    if (value instanceof Date) {
      expect(Object.isFrozen(value)).to.equal(true);
      expect(() => value.setTime(0)).to.throw(TypeError);
    }
  }
}

/** Runs one task of every kind of change through `repository`, as a worker and an engine would. */
async function everyKindOfChange(repository: InMemoryExternalTaskRepository, clock: ManualClock) {
  const done = (id: string, workerId: string, result: JsonValue) =>
    repository.complete({ externalTaskId: id, workerId, outcome: { state: 'finished', result } });
  const serviceError = { type: 'service', errorMessage: 'down' } as const;
  const task = await repository.create(
    newTask({
      topic: TOPIC,
      tenantId: 'tenant',
      processModelId: 'model',
      identity: { user: 'u' },
      idempotencyKey: 'key-1',
      retries: 2,
      payload: { amount: 1 },
    }),
  );
  const { id } = task;
  await repository.claim(claimOf('w1'));
  await repository.extendLock({ externalTaskId: id, workerId: 'w1', lockDuration: 5000 });
  await repository.unlock({ externalTaskId: id, workerId: 'w1' });
  await repository.claim(claimOf('w1'));
  clock.advance(2000);
  await repository.claim(claimOf('w2')); // lockExpired, locked
  await repository.complete({
    externalTaskId: id,
    workerId: 'w2',
    outcome: { state: 'failed', error: serviceError, retry: { retries: 1, retryTimeout: 500 } },
  });
  clock.advance(500);
  await repository.claim(claimOf('w3')); // retryDue, locked
  await repository.complete({
    externalTaskId: id,
    workerId: 'w3',
    outcome: { state: 'failed', error: serviceError, retry: { retries: 0, retryTimeout: 0 } },
  });
  await repository.setRetries(id, 1);
  await repository.setPriority(id, 7);
  await repository.claim(claimOf('w4'));
  await done(id, 'w4', { sent: true });
  const other = await repository.create(newTask({ topic: TOPIC }));
  await repository.forceUnlock(other.id);
  await repository.cancel({ externalTaskId: other.id });
  const bpmn = await repository.create(newTask({ topic: TOPIC }));
  await repository.claim(claimOf('w5'));
  await repository.complete({
    externalTaskId: bpmn.id,
    workerId: 'w5',
    outcome: { state: 'failed', error: { type: 'bpmn', errorCode: 'E1', errorMessage: 'no' } },
  });
}

describe('InMemoryExternalTaskRepository: the change log', () => {
  it('gives a subscriber that resumes the changes a live one heard: equal, frozen, dates included', async () => {
    const clock = new ManualClock(START);
    const repository = new InMemoryExternalTaskRepository({ clock });
    const live: ExternalTaskChange[] = [];
    await repository.subscribe({ onChange: (change) => void live.push(change) });

    await everyKindOfChange(repository, clock);
    // Every change has been delivered to the live subscriber, so a resumed one reads the retained log.
    const resumed: ExternalTaskChange[] = [];
    await repository.subscribe({ after: 0, onChange: (change) => void resumed.push(change) });

    expect(new Set(live.map((change) => change.type))).to.have.property('size', 12);
    expect(resumed).to.deep.equal(live);
    expect(resumed.map((change) => change.position)).to.deep.equal(live.map((_, index) => index + 1));
    for (const change of resumed) expectFrozen(change);
  });

  it('gives a subscriber that fell behind the entries it missed, equal to the live ones', async () => {
    const clock = new ManualClock(START);
    const repository = new InMemoryExternalTaskRepository({ clock });
    const live: ExternalTaskChange[] = [];
    await repository.subscribe({ onChange: (change) => void live.push(change) });
    const slow: ExternalTaskChange[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    await repository.subscribe({
      onChange: async (change) => {
        slow.push(change);
        if (slow.length === 1) await gate;
      },
    });

    await everyKindOfChange(repository, clock);
    expect(slow).to.have.length(1);
    release();
    for (let turn = 0; turn < 50 && slow.length < live.length; turn++) await new Promise(setImmediate);

    expect(slow).to.deep.equal(live);
    for (const change of slow) expectFrozen(change);
  });

  it('hands a subscriber marked synchronous every change in order, and lets it close from its onChange', async () => {
    const repository = new InMemoryExternalTaskRepository({ clock: new ManualClock(START) });
    const heard: string[] = [];
    let closed = false;
    const feed = await repository.subscribe({
      synchronous: true,
      onChange: (change) => {
        heard.push(change.type);
        // A write from inside onChange is delivered after the current change.
        if (change.type === 'created' && heard.length === 1)
          void repository.create(newTask({ topic: TOPIC }));
        if (change.type === 'locked') void feed.close().then(() => (closed = true));
      },
    });

    await repository.create(newTask({ topic: TOPIC }));
    await repository.claim(claimOf('w1'));
    await repository.create(newTask({ topic: TOPIC }));
    await new Promise(setImmediate);

    expect(heard).to.deep.equal(['created', 'created', 'locked']);
    expect(closed).to.equal(true);
  });

  for (const synchronous of ['yes', 1, null]) {
    it(`refuses synchronous: ${JSON.stringify(synchronous)} with a BadRequestError naming synchronous`, async () => {
      const repository = new InMemoryExternalTaskRepository();
      const error: unknown = await repository
        .subscribe({ synchronous, onChange: () => undefined } as never)
        .then(
          () => undefined,
          (refusal: unknown) => refusal,
        );
      expect(error).to.be.instanceOf(BadRequestError);
      expect((error as BadRequestError).argument).to.equal('synchronous');
    });
  }

  it('announces nothing of a claim that throws midway, and gives the next change the next position', async () => {
    const repository = new InMemoryExternalTaskRepository({ clock: new ManualClock(START) });
    await repository.create(newTask({ topic: TOPIC }));
    await repository.create(newTask({ topic: TOPIC }));
    const heard: ExternalTaskChange[] = [];
    await repository.subscribe({ onChange: (change) => void heard.push(change) });
    let reads = 0;
    const request = {
      workerId: 'w1',
      topics: [{ topicName: TOPIC, lockDuration: 1000 }],
      // A hostile request: its size reads 2 at first, then throws once a task is claimed.
      get maxTasks(): number {
        if (++reads > 1) throw new Error('read twice');
        return 2;
      },
    };

    const error: unknown = await repository.claim(request).then(
      () => undefined,
      (refusal: unknown) => refusal,
    );
    const next = await repository.create(newTask({ topic: TOPIC }));

    expect((error as Error).message).to.equal('read twice');
    expect(await repository.currentPosition()).to.equal(3);
    expect(heard.map((change) => [change.type, change.position, change.task.id])).to.deep.equal([
      ['created', 3, next.id],
    ]);
  });
});
