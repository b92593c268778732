import { expect } from 'chai';
import { BadRequestError } from '../../lib/errors/index.js';
import type { ExternalTask, NewExternalTask } from '../../lib/model/index.js';
import type {
  ConditionalWriteResult,
  ExternalTaskChange,
  ExternalTaskRepository,
  TopicClaim,
} from '../../lib/repository/index.js';
import { rejectionOf, useRepositoryTestbed } from '../support/fixtures.js';

/** 2030-01-01T00:00:00.000Z: the fake "now" every case starts at. */
const START = Date.UTC(2030, 0, 1);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const TOPIC = 'send-invoice';
const OTHER_TOPIC = 'archive-invoice';
const ONE_MIB = 1024 * 1024;

let counter = 0;

/** A valid new task with fresh engine ids; `overrides` replace fields. */
function newTask(overrides: Partial<NewExternalTask> = {}): NewExternalTask {
  counter++;
  return {
    topic: TOPIC,
    flowNodeInstanceId: `fni-${counter}`,
    correlationId: `corr-${counter}`,
    processInstanceId: `pi-${counter}`,
    ...overrides,
  };
}

function ids(tasks: readonly ExternalTask[]): string[] {
  return tasks.map((task) => task.id);
}

/** The task of a result that carries one; fails the test otherwise. */
function taskOf(result: ConditionalWriteResult): ExternalTask {
  if (result.status === 'not-found') return expect.fail('expected the result to carry a task');
  return result.task;
}

/** A small deterministic pseudo-random generator (mulberry32), so that failures reproduce. */
function seededRandom(seed: number): (maxExclusive: number) => number {
  let state = seed >>> 0;
  return (maxExclusive) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const unit = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return Math.floor(unit * maxExclusive);
  };
}

function cyclicObject(): Record<string, unknown> {
  const value: Record<string, unknown> = { name: 'loop' };
  value.self = value;
  return value;
}

/**
 * The behaviour every {@link ExternalTaskRepository} must show. Call it inside a `describe` of the adapter
 * with a factory that returns a fresh, empty repository; the suite installs sinon fake timers (Date,
 * setTimeout, clearTimeout) before calling it, so the repository must read "now" from `Date.now()` at
 * call time.
 */
export function behavesLikeAnExternalTaskRepository(
  createRepository: () => ExternalTaskRepository | Promise<ExternalTaskRepository>,
): void {
  describe('behaves like an ExternalTaskRepository', () => {
    defineCases(createRepository);
  });
}

function defineCases(createRepository: () => ExternalTaskRepository | Promise<ExternalTaskRepository>): void {
  const bed = useRepositoryTestbed(createRepository, START);

  const create = (overrides: Partial<NewExternalTask> = {}): Promise<ExternalTask> =>
    bed.repository.create(newTask(overrides));

  const claim = (
    workerId: string,
    maxTasks: number,
    topics: readonly TopicClaim[] = [{ topicName: TOPIC, lockDuration: 1000 }],
    isVisible?: (task: ExternalTask) => boolean,
  ): Promise<ExternalTask[]> =>
    bed.repository.claim({ workerId, topics, maxTasks, ...(isVisible && { isVisible }) });

  const extend = (
    externalTaskId: string,
    workerId: string,
    lockDuration: number,
    isVisible?: (task: ExternalTask) => boolean,
  ): Promise<ConditionalWriteResult> =>
    bed.repository.extendLock({ externalTaskId, workerId, lockDuration, ...(isVisible && { isVisible }) });

  const finish = (
    externalTaskId: string,
    workerId: string,
    result?: ExternalTask['result'],
    isVisible?: (task: ExternalTask) => boolean,
  ): Promise<ConditionalWriteResult> =>
    bed.repository.complete({
      externalTaskId,
      workerId,
      outcome: { state: 'finished', ...(result !== undefined && { result }) },
      ...(isVisible && { isVisible }),
    });

  const fail = (externalTaskId: string, workerId: string): Promise<ConditionalWriteResult> =>
    bed.repository.complete({
      externalTaskId,
      workerId,
      outcome: { state: 'failed', error: { type: 'bpmn', errorCode: 'E-42', errorMessage: 'no stock' } },
    });

  const changeTypes = (): string[] => bed.changes.map((change) => change.type);

  describe('create', () => {
    it('returns a pending record with a UUID, every given field, createdAt = now and no lock', async () => {
      const task = await bed.repository.create({
        topic: TOPIC,
        flowNodeInstanceId: 'fni-1',
        correlationId: 'corr-1',
        processInstanceId: 'pi-1',
        processModelId: 'invoicing',
        identity: { token: 'engine', tenant: 'acme' },
        payload: { amount: 42, lines: ['a', 'b'] },
        priority: 7,
      });

      expect(task.id).to.match(UUID);
      expect(task.topic).to.equal(TOPIC);
      expect(task.flowNodeInstanceId).to.equal('fni-1');
      expect(task.correlationId).to.equal('corr-1');
      expect(task.processInstanceId).to.equal('pi-1');
      expect(task.processModelId).to.equal('invoicing');
      expect(task.identity).to.deep.equal({ token: 'engine', tenant: 'acme' });
      expect(task.payload).to.deep.equal({ amount: 42, lines: ['a', 'b'] });
      expect(task.priority).to.equal(7);
      expect(task.state).to.equal('pending');
      expect(task.createdAt).to.be.instanceOf(Date);
      expect(task.createdAt.getTime()).to.equal(START);
      expect(task.workerId).to.be.undefined;
      expect(task.lockExpirationTime).to.be.undefined;
      expect(task.finishedAt).to.be.undefined;
      expect(task.result).to.be.undefined;
      expect(task.error).to.be.undefined;
    });

    it('defaults priority to 0 and payload to null, and leaves processModelId and identity out', async () => {
      const task = await create();

      expect(task.priority).to.equal(0);
      expect(task.payload).to.equal(null);
      expect(task.processModelId).to.be.undefined;
      expect(task.identity).to.be.undefined;
      expect(task.retries).to.be.undefined;
    });

    it('keeps a given retry budget', async () => {
      const task = await create({ retries: 3 });

      expect(task.retries).to.equal(3);
      expect((await bed.repository.getById(task.id))?.retries).to.equal(3);
    });

    it('stamps createdAt with the time of the call', async () => {
      bed.clock.tick(12_345);
      const task = await create();

      expect(task.createdAt.getTime()).to.equal(START + 12_345);
    });

    it('gives every task its own id', async () => {
      const tasks = await Promise.all(Array.from({ length: 50 }, () => create()));

      expect(new Set(ids(tasks)).size).to.equal(50);
    });

    it('makes the task readable with getById as an equal snapshot', async () => {
      const task = await create({ payload: { amount: 42 }, priority: -3, processModelId: 'm' });

      expect(await bed.repository.getById(task.id)).to.deep.equal(task);
    });

    it('answers undefined from getById for an unknown id', async () => {
      await create();

      expect(await bed.repository.getById(UNKNOWN_ID)).to.be.undefined;
    });

    it('accepts ids of 255 characters, the smallest and largest safe priorities and 1 MiB of payload', async () => {
      const long = 'x'.repeat(255);
      const payload = 'p'.repeat(ONE_MIB - 2); // the quotes make it exactly 1 MiB as JSON
      const task = await create({
        topic: long,
        flowNodeInstanceId: long,
        correlationId: long,
        processInstanceId: long,
        processModelId: long,
        priority: Number.MIN_SAFE_INTEGER,
        payload,
      });
      const other = await create({ priority: Number.MAX_SAFE_INTEGER });

      expect(task.topic).to.equal(long);
      expect(task.payload).to.equal(payload);
      expect(task.priority).to.equal(Number.MIN_SAFE_INTEGER);
      expect(other.priority).to.equal(Number.MAX_SAFE_INTEGER);
    });

    const invalidInputs: { title: string; input: () => unknown; argument: string }[] = [
      { title: 'a task that is not an object', input: () => null, argument: 'task' },
      {
        title: 'a missing topic',
        input: () => ({ ...newTask(), topic: undefined }),
        argument: 'topic',
      },
      { title: 'an empty topic', input: () => newTask({ topic: '' }), argument: 'topic' },
      {
        title: 'a topic that is not a string',
        input: () => ({ ...newTask(), topic: 42 }),
        argument: 'topic',
      },
      {
        title: 'a topic of 256 characters',
        input: () => newTask({ topic: 't'.repeat(256) }),
        argument: 'topic',
      },
      {
        title: 'a flowNodeInstanceId of 256 characters',
        input: () => newTask({ flowNodeInstanceId: 'f'.repeat(256) }),
        argument: 'flowNodeInstanceId',
      },
      {
        title: 'a missing correlationId',
        input: () => ({ ...newTask(), correlationId: undefined }),
        argument: 'correlationId',
      },
      {
        title: 'an empty processInstanceId',
        input: () => newTask({ processInstanceId: '' }),
        argument: 'processInstanceId',
      },
      {
        title: 'a processModelId of 256 characters',
        input: () => newTask({ processModelId: 'm'.repeat(256) }),
        argument: 'processModelId',
      },
      { title: 'a fractional priority', input: () => newTask({ priority: 1.5 }), argument: 'priority' },
      { title: 'a NaN priority', input: () => newTask({ priority: NaN }), argument: 'priority' },
      {
        title: 'a priority given as a string',
        input: () => ({ ...newTask(), priority: '1' }),
        argument: 'priority',
      },
      {
        title: 'a priority beyond the safe integers',
        input: () => newTask({ priority: 2 ** 53 }),
        argument: 'priority',
      },
      { title: 'a function as payload', input: () => newTask({ payload: () => 1 }), argument: 'payload' },
      { title: 'a Date as payload', input: () => newTask({ payload: new Date() }), argument: 'payload' },
      { title: 'NaN as payload', input: () => newTask({ payload: NaN }), argument: 'payload' },
      {
        title: 'a payload holding a function deep inside',
        input: () => newTask({ payload: { lines: [1, { total: () => 2 }] } }),
        argument: 'payload.lines[1].total',
      },
      {
        title: 'a payload that refers back to itself',
        input: () => newTask({ payload: cyclicObject() }),
        argument: 'payload.self',
      },
      {
        title: 'a payload of more than 1 MiB',
        input: () => newTask({ payload: 'p'.repeat(ONE_MIB - 1) }),
        argument: 'payload',
      },
      { title: 'a negative retry budget', input: () => newTask({ retries: -1 }), argument: 'retries' },
      { title: 'a fractional retry budget', input: () => newTask({ retries: 2.5 }), argument: 'retries' },
      {
        title: 'an identity that is not an object',
        input: () => ({ ...newTask(), identity: 'engine' }),
        argument: 'identity',
      },
      {
        title: 'an identity holding a function',
        input: () => newTask({ identity: { token: 't', check: () => true } }),
        argument: 'identity.check',
      },
    ];

    for (const { title, input, argument } of invalidInputs) {
      it(`refuses ${title} with a BadRequestError naming ${argument}, and stores nothing`, async () => {
        const given = input();
        const error = await rejectionOf(bed.repository.create(given as NewExternalTask));

        expect(error).to.be.instanceOf(BadRequestError);
        expect((error as BadRequestError).code).to.equal('BAD_REQUEST');
        expect((error as BadRequestError).argument).to.equal(argument);
        expect(bed.changes).to.deep.equal([]);
        const topic = (given as { topic?: unknown } | null)?.topic;
        const topics = [TOPIC, ...(typeof topic === 'string' && topic !== TOPIC ? [topic] : [])];
        const claimed = await claim(
          'worker',
          10,
          topics.map((topicName) => ({ topicName, lockDuration: 1000 })),
        );
        expect(claimed).to.deep.equal([]);
      });
    }

    it('keeps working normally after refusing an input', async () => {
      await rejectionOf(bed.repository.create(newTask({ priority: 0.5 })));
      const task = await create();

      expect(ids(await claim('worker', 10))).to.deep.equal([task.id]);
      expect(changeTypes()).to.deep.equal(['created', 'locked']);
    });
  });

  describe('snapshots', () => {
    it('stores a copy of the payload: changing the caller object afterwards changes nothing', async () => {
      const payload = { amount: 42, lines: [{ sku: 'a' }], tags: ['x'] };
      const task = await create({ payload });
      payload.amount = 0;
      payload.lines[0]!.sku = 'changed';
      payload.tags.push('y');

      const expected = { amount: 42, lines: [{ sku: 'a' }], tags: ['x'] };
      expect(task.payload).to.deep.equal(expected);
      expect((await bed.repository.getById(task.id))?.payload).to.deep.equal(expected);
      expect((await claim('worker', 1))[0]?.payload).to.deep.equal(expected);
    });

    it('stores a copy of the identity', async () => {
      const identity = { token: 'engine', groups: ['a'] };
      const task = await create({ identity });
      identity.token = 'changed';
      identity.groups.push('b');

      expect((await bed.repository.getById(task.id))?.identity).to.deep.equal({
        token: 'engine',
        groups: ['a'],
      });
    });

    it('hands out detached records: changing one changes nothing in the store', async () => {
      const created = await create({ priority: 1 });
      const read = (await bed.repository.getById(created.id))!;
      for (const snapshot of [created, read]) {
        const mutable = snapshot as unknown as Record<string, unknown>;
        mutable.state = 'finished';
        mutable.topic = 'elsewhere';
        mutable.priority = 99;
        mutable.workerId = 'intruder';
        snapshot.createdAt.setTime(0);
      }

      const again = await bed.repository.getById(created.id);
      expect(again?.state).to.equal('pending');
      expect(again?.topic).to.equal(TOPIC);
      expect(again?.priority).to.equal(1);
      expect(again?.workerId).to.be.undefined;
      expect(again?.createdAt.getTime()).to.equal(START);
      expect(ids(await claim('worker', 1))).to.deep.equal([created.id]);
    });

    it('hands out claimed records whose lock time cannot be moved by changing them', async () => {
      const task = await create();
      const [claimed] = await claim('worker', 1);
      claimed!.lockExpirationTime!.setTime(START);

      expect((await bed.repository.getById(task.id))?.lockExpirationTime?.getTime()).to.equal(START + 1000);
      expect(await claim('other', 1)).to.deep.equal([]);
    });

    it('hands out a deeply frozen payload', async () => {
      const task = await create({ payload: { lines: [{ sku: 'a' }] } });
      const read = (await bed.repository.getById(task.id))!;

      for (const snapshot of [task, read]) {
        const payload = snapshot.payload as { lines: { sku: string }[] };
        expect(Object.isFrozen(payload)).to.equal(true);
        expect(Object.isFrozen(payload.lines)).to.equal(true);
        expect(Object.isFrozen(payload.lines[0])).to.equal(true);
        expect(() => {
          payload.lines[0]!.sku = 'changed';
        }).to.throw(TypeError);
      }
      expect((await bed.repository.getById(task.id))?.payload).to.deep.equal({ lines: [{ sku: 'a' }] });
    });
  });

  describe('claim', () => {
    it('locks the tasks it returns for the worker until now + lockDuration', async () => {
      const task = await create();
      bed.clock.tick(500);
      const claimed = await claim('worker-1', 5, [{ topicName: TOPIC, lockDuration: 30_000 }]);

      expect(claimed).to.have.length(1);
      expect(claimed[0]?.id).to.equal(task.id);
      expect(claimed[0]?.state).to.equal('pending');
      expect(claimed[0]?.workerId).to.equal('worker-1');
      expect(claimed[0]?.lockExpirationTime?.getTime()).to.equal(START + 500 + 30_000);
      expect(await bed.repository.getById(task.id)).to.deep.equal(claimed[0]);
    });

    it('returns no more than maxTasks tasks, and the rest to the next claim', async () => {
      const created = [];
      for (let i = 0; i < 5; i++) created.push(await create());

      const first = await claim('worker-1', 3);
      const second = await claim('worker-2', 3);

      expect(ids(first)).to.deep.equal(ids(created.slice(0, 3)));
      expect(ids(second)).to.deep.equal(ids(created.slice(3)));
      expect(await claim('worker-3', 3)).to.deep.equal([]);
    });

    it('returns an empty array when no task of the topics exists', async () => {
      await create({ topic: OTHER_TOPIC });

      expect(await claim('worker', 10)).to.deep.equal([]);
    });

    it('hands out higher priority first, and equal priorities in creation order', async () => {
      const low = await create({ priority: -1 });
      const firstNormal = await create();
      const firstUrgent = await create({ priority: 5 });
      const secondNormal = await create();
      const secondUrgent = await create({ priority: 5 });
      const top = await create({ priority: 10 });

      const claimed = await claim('worker', 10);

      expect(ids(claimed)).to.deep.equal(
        ids([top, firstUrgent, secondUrgent, firstNormal, secondNormal, low]),
      );
    });

    it('hands out the oldest first among equal priorities', async () => {
      const oldest = await create();
      bed.clock.tick(1000);
      const middle = await create();
      bed.clock.tick(1000);
      const newest = await create();

      expect(ids(await claim('worker', 1))).to.deep.equal([oldest.id]);
      expect(ids(await claim('worker', 1))).to.deep.equal([middle.id]);
      expect(ids(await claim('worker', 1))).to.deep.equal([newest.id]);
    });

    it('keeps creation order among many tasks created at the same millisecond', async () => {
      const created = [];
      for (let i = 0; i < 40; i++) created.push(await create());

      const claimed = [];
      for (let round = 0; round < 8; round++) claimed.push(...(await claim(`worker-${round}`, 5)));

      expect(ids(claimed)).to.deep.equal(ids(created));
    });

    it('only hands out tasks of the requested topics', async () => {
      const wanted = await create();
      await create({ topic: OTHER_TOPIC });
      await create({ topic: 'third' });

      const claimed = await claim('worker', 10);

      expect(ids(claimed)).to.deep.equal([wanted.id]);
      expect(claimed[0]?.topic).to.equal(TOPIC);
    });

    it('claims across several topics in one global order, each with its own lock duration', async () => {
      const a1 = await create({ topic: TOPIC, priority: 1 });
      const b1 = await create({ topic: OTHER_TOPIC, priority: 3 });
      const a2 = await create({ topic: TOPIC, priority: 3 });
      const b2 = await create({ topic: OTHER_TOPIC, priority: 1 });
      await create({ topic: 'third', priority: 9 });

      const claimed = await claim('worker', 3, [
        { topicName: TOPIC, lockDuration: 1000 },
        { topicName: OTHER_TOPIC, lockDuration: 5000 },
      ]);

      expect(ids(claimed)).to.deep.equal(ids([b1, a2, a1]));
      const expiries = claimed.map((task) => task.lockExpirationTime?.getTime());
      expect(expiries).to.deep.equal([START + 5000, START + 1000, START + 1000]);
      const rest = await claim('worker', 3, [
        { topicName: TOPIC, lockDuration: 1000 },
        { topicName: OTHER_TOPIC, lockDuration: 5000 },
      ]);
      expect(ids(rest)).to.deep.equal([b2.id]);
    });

    it('does not hand out a locked task again while its lock holds', async () => {
      const task = await create();
      await claim('worker-1', 1);
      bed.clock.tick(999);

      expect(await claim('worker-2', 10)).to.deep.equal([]);
      expect((await bed.repository.getById(task.id))?.workerId).to.equal('worker-1');
    });

    it('hands out a task again, to another worker, once its lock has expired', async () => {
      const task = await create();
      await claim('worker-1', 1);
      bed.clock.tick(1000);

      const claimed = await claim('worker-2', 10, [{ topicName: TOPIC, lockDuration: 2000 }]);

      expect(ids(claimed)).to.deep.equal([task.id]);
      expect(claimed[0]?.workerId).to.equal('worker-2');
      expect(claimed[0]?.lockExpirationTime?.getTime()).to.equal(START + 1000 + 2000);
    });

    it('keeps the original position in the order for a task whose lock expired', async () => {
      const first = await create();
      const second = await create();
      bed.clock.tick(10);
      const third = await create();
      await claim('worker-1', 1, [{ topicName: TOPIC, lockDuration: 100 }]);
      bed.clock.tick(100);
      const fourth = await create();

      const claimed = await claim('worker-2', 10);

      expect(ids(claimed)).to.deep.equal(ids([first, second, third, fourth]));
    });

    it('skips tasks the caller cannot see, without claiming or changing them', async () => {
      const hidden = await create({ identity: { token: 't', owner: 'alice' } });
      const visible = await create({ identity: { token: 't', owner: 'bob' } });
      const hiddenToo = await create({ identity: { token: 't', owner: 'alice' } });
      bed.changes.length = 0;
      const bobSees = (task: ExternalTask): boolean => task.identity?.owner === 'bob';

      const claimed = await claim('bob-worker', 10, undefined, bobSees);

      expect(ids(claimed)).to.deep.equal([visible.id]);
      expect(await bed.repository.getById(hidden.id)).to.deep.equal(hidden);
      expect(await bed.repository.getById(hiddenToo.id)).to.deep.equal(hiddenToo);
      expect(bed.changes.map((change) => [change.type, change.task.id])).to.deep.equal([
        ['locked', visible.id],
      ]);
      expect(ids(await claim('alice-worker', 10))).to.deep.equal(ids([hidden, hiddenToo]));
    });

    it('returns nothing when the caller can see no task, and leaves them all claimable', async () => {
      const created = [await create(), await create()];

      expect(await claim('worker', 10, undefined, () => false)).to.deep.equal([]);
      expect(ids(await claim('worker', 10))).to.deep.equal(ids(created));
    });

    it('asks isVisible about tasks whose lock expired, too', async () => {
      const task = await create({ identity: { token: 't', owner: 'alice' } });
      await claim('alice-worker', 1);
      bed.clock.tick(1000);

      expect(await claim('bob-worker', 1, undefined, (t) => t.identity?.owner === 'bob')).to.deep.equal([]);
      expect((await bed.repository.getById(task.id))?.workerId).to.equal('alice-worker');
      expect(ids(await claim('alice-worker-2', 1))).to.deep.equal([task.id]);
    });
  });

  describe('extendLock', () => {
    it('sets the lock to now + lockDuration, counted from now, even when shorter than before', async () => {
      const task = await create();
      await claim('worker', 1, [{ topicName: TOPIC, lockDuration: 10_000 }]);
      bed.clock.tick(3000);

      const result = await extend(task.id, 'worker', 500);

      expect(result.status).to.equal('ok');
      expect(taskOf(result).lockExpirationTime?.getTime()).to.equal(START + 3500);
      expect(taskOf(result).workerId).to.equal('worker');
      expect((await bed.repository.getById(task.id))?.lockExpirationTime?.getTime()).to.equal(START + 3500);
      bed.clock.tick(499);
      expect(await claim('other', 1)).to.deep.equal([]);
      bed.clock.tick(1);
      expect(ids(await claim('other', 1))).to.deep.equal([task.id]);
    });

    it('extends a lock beyond its original expiry', async () => {
      const task = await create();
      await claim('worker', 1);
      bed.clock.tick(900);
      await extend(task.id, 'worker', 5000);
      bed.clock.tick(1000);

      expect(await claim('other', 1)).to.deep.equal([]);
    });

    it('answers not-found for an unknown task', async () => {
      expect(await extend(UNKNOWN_ID, 'worker', 1000)).to.deep.equal({ status: 'not-found' });
    });

    it('answers gone, with the record, for a finished task', async () => {
      const task = await create();
      await claim('worker', 1);
      await finish(task.id, 'worker', 'done');

      const result = await extend(task.id, 'worker', 1000);

      expect(result.status).to.equal('gone');
      expect(taskOf(result).state).to.equal('finished');
    });

    it('answers gone, with the record, for a failed task', async () => {
      const task = await create();
      await claim('worker', 1);
      await fail(task.id, 'worker');

      const result = await extend(task.id, 'worker', 1000);

      expect(result.status).to.equal('gone');
      expect(taskOf(result).state).to.equal('failed');
    });

    it('answers locked, showing the holder, when another worker holds the lock', async () => {
      const task = await create();
      await claim('holder', 1);
      bed.changes.length = 0;

      const result = await extend(task.id, 'intruder', 60_000);

      expect(result.status).to.equal('locked');
      expect(taskOf(result).workerId).to.equal('holder');
      expect(taskOf(result).lockExpirationTime?.getTime()).to.equal(START + 1000);
      expect((await bed.repository.getById(task.id))?.lockExpirationTime?.getTime()).to.equal(START + 1000);
      expect(bed.changes).to.deep.equal([]);
    });

    it('answers locked, showing no holder, for a task nobody has locked', async () => {
      const task = await create();

      const result = await extend(task.id, 'worker', 1000);

      expect(result.status).to.equal('locked');
      expect(taskOf(result).workerId).to.be.undefined;
      expect(ids(await claim('worker', 1))).to.deep.equal([task.id]);
    });

    it('lets a worker whose lock expired, and whom nobody replaced, still extend it', async () => {
      const task = await create();
      await claim('worker', 1);
      bed.clock.tick(5000);

      const result = await extend(task.id, 'worker', 1000);

      expect(result.status).to.equal('ok');
      expect(taskOf(result).lockExpirationTime?.getTime()).to.equal(START + 6000);
    });

    it('makes a task whose expired lock was extended unavailable again', async () => {
      const task = await create();
      await claim('worker', 1);
      bed.clock.tick(5000);
      await extend(task.id, 'worker', 1000);

      expect(await claim('other', 10)).to.deep.equal([]);
      bed.clock.tick(1000);
      expect(ids(await claim('other', 10))).to.deep.equal([task.id]);
    });

    it('answers locked to the first worker once another worker has claimed the expired task', async () => {
      const task = await create();
      await claim('first', 1);
      bed.clock.tick(1000);
      await claim('second', 1);

      const result = await extend(task.id, 'first', 1000);

      expect(result.status).to.equal('locked');
      expect(taskOf(result).workerId).to.equal('second');
    });

    it('answers not-found, changing nothing, when the caller cannot see the task', async () => {
      const task = await create();
      await claim('worker', 1);
      bed.changes.length = 0;

      expect(await extend(task.id, 'worker', 60_000, () => false)).to.deep.equal({ status: 'not-found' });
      expect((await bed.repository.getById(task.id))?.lockExpirationTime?.getTime()).to.equal(START + 1000);
      expect(bed.changes).to.deep.equal([]);
    });

    it('extends when isVisible answers true', async () => {
      const task = await create();
      await claim('worker', 1);

      expect((await extend(task.id, 'worker', 60_000, () => true)).status).to.equal('ok');
    });
  });

  describe('complete', () => {
    it('marks a held task finished with its result and finishedAt = now, and drops the lock', async () => {
      const task = await create();
      await claim('worker', 1);
      bed.clock.tick(250);

      const result = await finish(task.id, 'worker', { invoice: 'INV-1', total: 42 });

      expect(result.status).to.equal('ok');
      const finished = taskOf(result);
      expect(finished.state).to.equal('finished');
      expect(finished.result).to.deep.equal({ invoice: 'INV-1', total: 42 });
      expect(finished.finishedAt?.getTime()).to.equal(START + 250);
      expect(finished.workerId).to.equal('worker');
      expect(finished.lockExpirationTime).to.be.undefined;
      expect(finished.error).to.be.undefined;
      expect(await bed.repository.getById(task.id)).to.deep.equal(finished);
    });

    it('marks a held task finished without a result', async () => {
      const task = await create();
      await claim('worker', 1);

      const finished = taskOf(await finish(task.id, 'worker'));

      expect(finished.state).to.equal('finished');
      expect(finished.result).to.be.undefined;
    });

    it('marks a held task failed with a BPMN error', async () => {
      const task = await create();
      await claim('worker', 1);
      bed.clock.tick(40);

      const result = await fail(task.id, 'worker');

      expect(result.status).to.equal('ok');
      const failed = taskOf(result);
      expect(failed.state).to.equal('failed');
      expect(failed.error).to.deep.equal({ type: 'bpmn', errorCode: 'E-42', errorMessage: 'no stock' });
      expect(failed.finishedAt?.getTime()).to.equal(START + 40);
      expect(failed.result).to.be.undefined;
      expect(failed.lockExpirationTime).to.be.undefined;
      expect(await bed.repository.getById(task.id)).to.deep.equal(failed);
    });

    it('marks a held task failed with a service error and its details', async () => {
      const task = await create();
      await claim('worker', 1);

      const result = await bed.repository.complete({
        externalTaskId: task.id,
        workerId: 'worker',
        outcome: {
          state: 'failed',
          error: { type: 'service', errorMessage: 'timeout', errorDetails: { attempts: 3 } },
        },
      });

      expect(taskOf(result).error).to.deep.equal({
        type: 'service',
        errorMessage: 'timeout',
        errorDetails: { attempts: 3 },
      });
    });

    it('never hands out a finished or failed task again', async () => {
      const finished = await create();
      const failed = await create();
      const pending = await create();
      await claim('worker', 2);
      await finish(finished.id, 'worker');
      await fail(failed.id, 'worker');
      bed.clock.tick(24 * 60 * 60 * 1000);

      expect(ids(await claim('other', 10))).to.deep.equal([pending.id]);
      bed.clock.tick(24 * 60 * 60 * 1000);
      expect(ids(await claim('other', 10))).to.deep.equal([pending.id]);
    });

    it('answers gone to a second outcome, keeping the first', async () => {
      const task = await create();
      await claim('worker', 1);
      await finish(task.id, 'worker', 'first');
      bed.changes.length = 0;

      const result = await fail(task.id, 'worker');

      expect(result.status).to.equal('gone');
      expect(taskOf(result).state).to.equal('finished');
      expect(taskOf(result).result).to.equal('first');
      expect(bed.changes).to.deep.equal([]);
    });

    it('answers not-found for an unknown task', async () => {
      expect(await finish(UNKNOWN_ID, 'worker')).to.deep.equal({ status: 'not-found' });
    });

    it('answers locked, changing nothing, when another worker holds the lock', async () => {
      const task = await create();
      await claim('holder', 1);

      const result = await finish(task.id, 'intruder', 'stolen');

      expect(result.status).to.equal('locked');
      expect(taskOf(result).workerId).to.equal('holder');
      expect((await bed.repository.getById(task.id))?.state).to.equal('pending');
    });

    it('answers locked for a task nobody has locked', async () => {
      const task = await create();

      const result = await finish(task.id, 'worker');

      expect(result.status).to.equal('locked');
      expect(taskOf(result).state).to.equal('pending');
      expect(taskOf(result).workerId).to.be.undefined;
    });

    it('lets a worker whose lock expired, and whom nobody replaced, still finish it', async () => {
      const task = await create();
      await claim('worker', 1);
      bed.clock.tick(60_000);

      const result = await finish(task.id, 'worker', 'late but done');

      expect(result.status).to.equal('ok');
      expect(taskOf(result).state).to.equal('finished');
      expect(await claim('other', 1)).to.deep.equal([]);
    });

    it('answers locked to the first worker once another worker has claimed the expired task', async () => {
      const task = await create();
      await claim('first', 1);
      bed.clock.tick(1000);
      await claim('second', 1);

      const result = await finish(task.id, 'first', 'too late');

      expect(result.status).to.equal('locked');
      expect(taskOf(result).workerId).to.equal('second');
      expect((await finish(task.id, 'second', 'mine')).status).to.equal('ok');
    });

    it('answers not-found, changing nothing, when the caller cannot see the task', async () => {
      const task = await create();
      await claim('worker', 1);

      expect(await finish(task.id, 'worker', 'x', () => false)).to.deep.equal({ status: 'not-found' });
      expect((await bed.repository.getById(task.id))?.state).to.equal('pending');
    });

    it('lets exactly one of many concurrent outcomes win; the others get gone', async () => {
      const task = await create();
      await claim('worker', 1);
      bed.changes.length = 0;

      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          i % 2 === 0 ? finish(task.id, 'worker', i) : fail(task.id, 'worker'),
        ),
      );

      const statuses = results.map((result) => result.status);
      expect(statuses.filter((status) => status === 'ok')).to.have.length(1);
      expect(statuses.filter((status) => status === 'gone')).to.have.length(19);
      const winner = taskOf(results.find((result) => result.status === 'ok')!);
      expect(await bed.repository.getById(task.id)).to.deep.equal(winner);
      expect(bed.changes).to.have.length(1);
    });
  });

  describe('nextAvailableAt', () => {
    it('answers undefined when no task of the topics is locked', async () => {
      expect(await bed.repository.nextAvailableAt([TOPIC])).to.be.undefined;
      await create();
      expect(await bed.repository.nextAvailableAt([TOPIC])).to.be.undefined;
      expect(await bed.repository.nextAvailableAt([])).to.be.undefined;
    });

    it('answers the earliest lock expiration among the given topics', async () => {
      await create({ topic: TOPIC });
      await create({ topic: OTHER_TOPIC });
      await create({ topic: OTHER_TOPIC });
      await claim('worker', 1, [{ topicName: TOPIC, lockDuration: 5000 }]);
      await claim('worker', 1, [{ topicName: OTHER_TOPIC, lockDuration: 3000 }]);
      await claim('worker', 1, [{ topicName: OTHER_TOPIC, lockDuration: 2000 }]);

      const at = await bed.repository.nextAvailableAt([TOPIC, OTHER_TOPIC]);

      expect(at).to.be.instanceOf(Date);
      expect(at?.getTime()).to.equal(START + 2000);
    });

    it('ignores locks of other topics', async () => {
      await create({ topic: TOPIC });
      await create({ topic: OTHER_TOPIC });
      await claim('worker', 1, [{ topicName: TOPIC, lockDuration: 5000 }]);
      await claim('worker', 1, [{ topicName: OTHER_TOPIC, lockDuration: 1000 }]);

      expect((await bed.repository.nextAvailableAt([TOPIC]))?.getTime()).to.equal(START + 5000);
      expect(await bed.repository.nextAvailableAt(['third'])).to.be.undefined;
    });

    it('moves with extendLock, later and earlier', async () => {
      const first = await create();
      await create();
      await claim('worker', 2, [{ topicName: TOPIC, lockDuration: 4000 }]);
      await extend(first.id, 'worker', 10_000);
      expect((await bed.repository.nextAvailableAt([TOPIC]))?.getTime()).to.equal(START + 4000);

      await extend(first.id, 'worker', 100);
      expect((await bed.repository.nextAvailableAt([TOPIC]))?.getTime()).to.equal(START + 100);
    });

    it('moves with complete, and answers undefined once every locked task is final', async () => {
      const first = await create();
      const second = await create();
      const third = await create();
      await claim('worker', 1, [{ topicName: TOPIC, lockDuration: 1000 }]);
      await claim('worker', 2, [{ topicName: TOPIC, lockDuration: 3000 }]);
      expect((await bed.repository.nextAvailableAt([TOPIC]))?.getTime()).to.equal(START + 1000);

      await finish(first.id, 'worker');
      expect((await bed.repository.nextAvailableAt([TOPIC]))?.getTime()).to.equal(START + 3000);
      await finish(second.id, 'worker');
      await fail(third.id, 'worker');
      expect(await bed.repository.nextAvailableAt([TOPIC])).to.be.undefined;
    });

    it('does not count a lock that has already expired (that task is available now)', async () => {
      await create();
      await create();
      await claim('worker', 1, [{ topicName: TOPIC, lockDuration: 1000 }]);
      await claim('worker', 1, [{ topicName: TOPIC, lockDuration: 5000 }]);
      bed.clock.tick(2000);

      expect((await bed.repository.nextAvailableAt([TOPIC]))?.getTime()).to.equal(START + 5000);
    });
  });

  describe('subscribe', () => {
    it('announces every change once, with the record after the change', async () => {
      const task = await create();
      const [locked] = await claim('worker', 1);
      bed.clock.tick(10);
      const extended = taskOf(await extend(task.id, 'worker', 2000));
      const finished = taskOf(await finish(task.id, 'worker', 'ok'));
      const other = await create();
      const [otherLocked] = await claim('worker', 1);
      const failed = taskOf(await fail(other.id, 'worker'));

      expect(bed.changes).to.deep.equal([
        { type: 'created', task },
        { type: 'locked', task: locked },
        { type: 'extended', task: extended },
        { type: 'finished', task: finished },
        { type: 'created', task: other },
        { type: 'locked', task: otherLocked },
        { type: 'failed', task: failed },
      ]);
      expect(bed.changes[2]?.task.lockExpirationTime?.getTime()).to.equal(START + 2010);
      expect(bed.changes[3]?.task.state).to.equal('finished');
    });

    it('announces one locked change per claimed task', async () => {
      const created = [await create(), await create(), await create()];
      bed.changes.length = 0;

      await claim('worker', 10);

      expect(changeTypes()).to.deep.equal(['locked', 'locked', 'locked']);
      expect(bed.changes.map((change) => change.task.id)).to.have.members(ids(created));
      for (const change of bed.changes) expect(change.task.workerId).to.equal('worker');
    });

    it('announces nothing for writes that did not happen', async () => {
      const task = await create();
      await claim('holder', 1);
      bed.changes.length = 0;

      await extend(task.id, 'intruder', 1000);
      await finish(task.id, 'intruder');
      await extend(UNKNOWN_ID, 'holder', 1000);
      await claim('other', 10);

      expect(bed.changes).to.deep.equal([]);
    });

    it('stops announcing to a listener once it unsubscribed', async () => {
      const heard: ExternalTaskChange[] = [];
      const stop = bed.repository.subscribe((change) => heard.push(change));
      await create();
      stop();
      await create();
      await claim('worker', 10);

      expect(heard.map((change) => change.type)).to.deep.equal(['created']);
      expect(changeTypes()).to.deep.equal(['created', 'created', 'locked', 'locked']);
    });

    it('completes the operation and still informs other listeners when a listener throws', async () => {
      const stopThrowing = bed.repository.subscribe(() => {
        throw new Error('listener failure');
      });
      const heard: string[] = [];
      const stop = bed.repository.subscribe((change) => heard.push(change.type));
      try {
        const task = await create();
        const claimed = await claim('worker', 1);
        const result = await finish(task.id, 'worker');

        expect(ids(claimed)).to.deep.equal([task.id]);
        expect(result.status).to.equal('ok');
        expect(changeTypes()).to.deep.equal(['created', 'locked', 'finished']);
        expect(heard).to.deep.equal(['created', 'locked', 'finished']);
      } finally {
        stopThrowing();
        stop();
      }
    });
  });

  describe('under concurrency', () => {
    it('hands out each of 500 tasks exactly once to 50 concurrent claims per round', async () => {
      const random = seededRandom(20300101);
      const created = new Set<string>();
      for (let i = 0; i < 500; i++) {
        const topic = i % 3 === 0 ? OTHER_TOPIC : TOPIC;
        created.add((await create({ topic, priority: random(5) })).id);
      }
      const handedOut: string[] = [];
      const topics = [
        { topicName: TOPIC, lockDuration: 60_000 },
        { topicName: OTHER_TOPIC, lockDuration: 60_000 },
      ];

      for (let round = 0; round < 20 && handedOut.length < 500; round++) {
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) => claim(`worker-${i}`, 1 + random(10), topics)),
        );
        for (const result of results) handedOut.push(...ids(result));
      }

      expect(handedOut).to.have.length(500);
      expect(new Set(handedOut)).to.deep.equal(created);
      expect(await claim('late', 10, topics)).to.deep.equal([]);
    });

    it('never lets two claims hold overlapping locks on a task while locks expire in between', async () => {
      const random = seededRandom(42);
      for (let i = 0; i < 120; i++) await create({ topic: i % 2 === 0 ? TOPIC : OTHER_TOPIC });
      const holds = new Map<string, { from: number; until: number; workerId: string }[]>();
      let reclaims = 0;

      for (let round = 0; round < 40; round++) {
        const now = Date.now();
        const requests = Array.from({ length: 25 }, (_, i) => ({
          workerId: `worker-${round}-${i}`,
          topics: [
            { topicName: TOPIC, lockDuration: 1 + random(400) },
            { topicName: OTHER_TOPIC, lockDuration: 1 + random(400) },
          ],
          maxTasks: 1 + random(8),
        }));
        const results = await Promise.all(requests.map((request) => bed.repository.claim(request)));
        results.forEach((tasks, i) => {
          const request = requests[i]!;
          expect(tasks.length).to.be.at.most(request.maxTasks);
          for (const task of tasks) {
            const lockDuration = request.topics.find((t) => t.topicName === task.topic)!.lockDuration;
            expect(task.workerId).to.equal(request.workerId);
            expect(task.lockExpirationTime?.getTime()).to.equal(now + lockDuration);
            const previous = holds.get(task.id) ?? [];
            const last = previous[previous.length - 1];
            if (last) {
              reclaims++;
              expect(now, `task ${task.id} claimed while ${last.workerId} held it`).to.be.at.least(
                last.until,
              );
            }
            holds.set(task.id, [
              ...previous,
              { from: now, until: now + lockDuration, workerId: request.workerId },
            ]);
          }
        });
        bed.clock.tick(random(300));
      }

      expect(holds.size).to.equal(120);
      expect(reclaims).to.be.greaterThan(100);
    });
  });
}
