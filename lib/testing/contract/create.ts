import { expect } from 'chai';
import type { NewExternalTask } from '../../model/index.js';
import {
  cyclicObject,
  expectBadRequest,
  expectHints,
  ids,
  newTask,
  ONE_MIB,
  OTHER_TOPIC,
  rejectionOf,
  START,
  TOPIC,
  tryToChange,
  UNKNOWN_ID,
  UUID,
  type ContractBed,
} from './contract-bed.js';

/** create, createMany, getById, and the records they hand out. */
export function describeCreate(bed: ContractBed): void {
  describe('create', () => {
    it('returns a pending record with a UUID, every given field, createdAt = now and no lock', async () => {
      const task = await bed.repository.create({
        topic: TOPIC,
        flowNodeInstanceId: 'fni-1',
        correlationId: 'corr-1',
        processInstanceId: 'pi-1',
        processModelId: 'invoicing',
        tenantId: 'acme',
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
      expect(task.tenantId).to.equal('acme');
      expect(task.identity).to.deep.equal({ token: 'engine', tenant: 'acme' });
      expect(task.payload).to.deep.equal({ amount: 42, lines: ['a', 'b'] });
      expect(task.priority).to.equal(7);
      expect(task.state).to.equal('pending');
      expect(task.attempts).to.equal(0);
      expect(task.createdAt).to.be.instanceOf(Date);
      expect(task.createdAt.getTime()).to.equal(START);
      expect(task.workerId).to.be.undefined;
      expect(task.lockExpirationTime).to.be.undefined;
      expect(task.finishedAt).to.be.undefined;
      expect(task.result).to.be.undefined;
      expect(task.error).to.be.undefined;
    });

    it('defaults priority to 0 and payload to null, and leaves processModelId and identity out', async () => {
      const task = await bed.create();

      expect(task.priority).to.equal(0);
      expect(task.payload).to.equal(null);
      expect(task.processModelId).to.be.undefined;
      expect(task.tenantId).to.be.undefined;
      expect(task.identity).to.be.undefined;
      expect(task.retries).to.be.undefined;
      expect(task.attempts).to.equal(0);
    });

    it('keeps a given retry budget', async () => {
      const task = await bed.create({ retries: 3 });

      expect(task.retries).to.equal(3);
      expect((await bed.repository.getById(task.id))?.retries).to.equal(3);
    });

    it('stamps createdAt with the time of the call', async () => {
      bed.clock.advance(12_345);
      const task = await bed.create();

      expect(task.createdAt.getTime()).to.equal(START + 12_345);
    });

    it('gives every task its own id', async () => {
      const tasks = await Promise.all(Array.from({ length: 50 }, () => bed.create()));

      expect(new Set(ids(tasks)).size).to.equal(50);
    });

    it("announces 'created' with the record, at a new position", async () => {
      const before = await bed.repository.currentPosition();
      const task = await bed.create({ tenantId: 'acme' });

      const changes = await bed.changes();
      expect(changes.map((change) => [change.type, change.task])).to.deep.equal([['created', task]]);
      expect(changes[0]!.position).to.be.greaterThan(before);
      expect(await bed.repository.currentPosition()).to.equal(changes[0]!.position);
    });

    it('makes the task readable with getById as an equal snapshot', async () => {
      const task = await bed.create({
        payload: { amount: 42 },
        priority: -3,
        processModelId: 'm',
        tenantId: 't',
      });

      expect(await bed.repository.getById(task.id)).to.deep.equal(task);
    });

    it('answers undefined from getById for an unknown id', async () => {
      await bed.create();

      expect(await bed.repository.getById(UNKNOWN_ID)).to.be.undefined;
    });

    it('accepts ids of 255 characters, the smallest and largest safe priorities and 1 MiB of payload', async () => {
      const long = 'x'.repeat(255);
      const payload = 'p'.repeat(ONE_MIB - 2); // the quotes make it exactly 1 MiB as JSON
      const task = await bed.create({
        topic: long,
        flowNodeInstanceId: long,
        correlationId: long,
        processInstanceId: long,
        processModelId: long,
        tenantId: long,
        priority: Number.MIN_SAFE_INTEGER,
        payload,
      });
      const other = await bed.create({ priority: Number.MAX_SAFE_INTEGER });

      expect(task.topic).to.equal(long);
      expect(task.tenantId).to.equal(long);
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
      { title: 'an empty tenantId', input: () => newTask({ tenantId: '' }), argument: 'tenantId' },
      {
        title: 'a tenantId that is not a string',
        input: () => ({ ...newTask(), tenantId: 7 }),
        argument: 'tenantId',
      },
      {
        title: 'a tenantId of 256 characters',
        input: () => newTask({ tenantId: 'a'.repeat(256) }),
        argument: 'tenantId',
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
        await expectBadRequest(bed.repository.create(given as NewExternalTask), argument);

        expect(await bed.changes()).to.deep.equal([]);
        expect(await bed.repository.currentPosition()).to.equal(0);
        const topic = (given as { topic?: unknown } | null)?.topic;
        const topics = [TOPIC, ...(typeof topic === 'string' && topic !== TOPIC ? [topic] : [])];
        const claimed = await bed.claim(
          'worker',
          10,
          topics.map((topicName) => ({ topicName, lockDuration: 1000 })),
        );
        expect(claimed).to.deep.equal([]);
      });
    }

    it('keeps working normally after refusing an input', async () => {
      await rejectionOf(bed.repository.create(newTask({ priority: 0.5 })));
      const task = await bed.create();

      expect(ids(await bed.claim('worker', 10))).to.deep.equal([task.id]);
      expect(await bed.changeTypes()).to.deep.equal(['created', 'locked']);
    });
  });

  describe('create with a retry budget', () => {
    it('stores the given retries and reports them on every read', async () => {
      const task = await bed.create({ retries: 3 });
      expect(task.retries).to.equal(3);
      expect((await bed.current(task.id)).retries).to.equal(3);
      expect((await bed.changesOf('created', task.id))[0]?.task.retries).to.equal(3);
    });

    it('stores no retries field when none is given', async () => {
      const task = await bed.create();
      expect(task).to.not.have.property('retries');
      expect(await bed.current(task.id)).to.not.have.property('retries');
    });

    it('accepts the bounds 0 and 1,000,000', async () => {
      expect((await bed.create({ retries: 0 })).retries).to.equal(0);
      expect((await bed.create({ retries: 1_000_000 })).retries).to.equal(1_000_000);
    });

    for (const [label, value] of [
      ['a negative number', -1],
      ['more than 1,000,000', 1_000_001],
      ['a fraction', 1.5],
      ['NaN', Number.NaN],
      ['Infinity', Number.POSITIVE_INFINITY],
      ['a numeric string', '3'],
      ['null', null],
    ] as const) {
      it(`refuses ${label} as retries with a BadRequestError naming 'retries', storing nothing`, async () => {
        const topic = bed.freshTopic();
        await expectBadRequest(bed.create({ topic, retries: value as unknown as number }), 'retries');
        expect((await bed.repository.query({ topic })).total).to.equal(0);
        expect(await bed.changes()).to.deep.equal([]);
      });
    }
  });

  describe('createMany', () => {
    it('stores every task, in the given order, announced in that order and handed out in that order', async () => {
      const inputs = Array.from({ length: 5 }, (_, i) =>
        newTask({ topic: i % 2 === 0 ? TOPIC : OTHER_TOPIC }),
      );

      const created = await bed.repository.createMany(inputs);

      expect(created.map((task) => task.flowNodeInstanceId)).to.deep.equal(
        inputs.map((task) => task.flowNodeInstanceId),
      );
      for (const task of created) {
        expect(task.id).to.match(UUID);
        expect(task).to.include({ state: 'pending', attempts: 0, priority: 0 });
        expect(task.createdAt.getTime()).to.equal(START);
        expect(await bed.repository.getById(task.id)).to.deep.equal(task);
      }
      expect(new Set(ids(created)).size).to.equal(5);
      const changes = await bed.changes();
      expect(changes.map((change) => [change.type, change.task])).to.deep.equal(
        created.map((task) => ['created', task]),
      );
      const claimed = await bed.claim('worker', 10, [
        { topicName: TOPIC, lockDuration: 1000 },
        { topicName: OTHER_TOPIC, lockDuration: 1000 },
      ]);
      expect(ids(claimed)).to.deep.equal(ids(created));
    });

    it('hands out tasks of one call after earlier ones and before later ones, priorities first', async () => {
      const before = await bed.create();
      const [low, high, normal] = await bed.repository.createMany([
        newTask({ priority: -1 }),
        newTask({ priority: 1 }),
        newTask(),
      ]);
      const after = await bed.create();

      expect(ids(await bed.claim('worker', 10))).to.deep.equal(ids([high!, before, normal!, after, low!]));
    });

    it('stores nothing and announces nothing when one task is invalid: all or none', async () => {
      const topic = bed.freshTopic();
      const inputs = [newTask({ topic }), newTask({ topic }), newTask({ topic: '' }), newTask({ topic })];

      await expectBadRequest(bed.repository.createMany(inputs), 'tasks[2].topic');

      expect((await bed.repository.query({ topic })).total).to.equal(0);
      expect(await bed.claim('worker', 10, topic)).to.deep.equal([]);
      expect(await bed.changes()).to.deep.equal([]);
      expect(await bed.repository.currentPosition()).to.equal(0);
    });

    it('names the offending field of the offending task', async () => {
      await expectBadRequest(
        bed.repository.createMany([newTask(), newTask({ payload: { a: [() => 1] } })]),
        'tasks[1].payload.a[0]',
      );
      await expectBadRequest(bed.repository.createMany([newTask({ tenantId: '' })]), 'tasks[0].tenantId');
    });

    it('refuses a list that is not an array with a BadRequestError naming tasks', async () => {
      await expectBadRequest(bed.repository.createMany(newTask() as unknown as NewExternalTask[]), 'tasks');
      expect(await bed.changes()).to.deep.equal([]);
    });

    it('refuses more than 1,000 tasks in one call with a BadRequestError naming tasks', async () => {
      await expectBadRequest(
        bed.repository.createMany(Array.from({ length: 1001 }, () => newTask())),
        'tasks',
      );
      expect(await bed.repository.currentPosition()).to.equal(0);
    });

    it('announces 100 tasks with one availability hint per topic', async () => {
      const inputs = Array.from({ length: 100 }, (_, i) => newTask({ topic: i < 60 ? TOPIC : OTHER_TOPIC }));

      const batches = await bed.hintsOf(() => bed.repository.createMany(inputs));

      expect(batches).to.have.length(1);
      expectHints(batches[0], [
        { topic: TOPIC, delay: 0, count: 60 },
        { topic: OTHER_TOPIC, delay: 0, count: 40 },
      ]);
    });
  });

  describe('snapshots', () => {
    it('stores a copy of the payload: changing the caller object afterwards changes nothing', async () => {
      const payload = { amount: 42, lines: [{ sku: 'a' }], tags: ['x'] };
      const task = await bed.create({ payload });
      payload.amount = 0;
      payload.lines[0]!.sku = 'changed';
      payload.tags.push('y');

      const expected = { amount: 42, lines: [{ sku: 'a' }], tags: ['x'] };
      expect(task.payload).to.deep.equal(expected);
      expect((await bed.repository.getById(task.id))?.payload).to.deep.equal(expected);
      expect((await bed.claim('worker', 1))[0]?.payload).to.deep.equal(expected);
    });

    it('stores a copy of the identity', async () => {
      const identity = { token: 'engine', groups: ['a'] };
      const task = await bed.create({ identity });
      identity.token = 'changed';
      identity.groups.push('b');

      expect((await bed.repository.getById(task.id))?.identity).to.deep.equal({
        token: 'engine',
        groups: ['a'],
      });
    });

    it('hands out detached records: changing one changes nothing in the store', async () => {
      const created = await bed.create({ priority: 1 });
      const read = (await bed.repository.getById(created.id))!;
      for (const snapshot of [created, read]) {
        const mutable = snapshot as unknown as Record<string, unknown>;
        tryToChange(() => (mutable.state = 'finished'));
        tryToChange(() => (mutable.topic = 'elsewhere'));
        tryToChange(() => (mutable.priority = 99));
        tryToChange(() => (mutable.workerId = 'intruder'));
        tryToChange(() => snapshot.createdAt.setTime(0));
      }

      const again = await bed.repository.getById(created.id);
      expect(again?.state).to.equal('pending');
      expect(again?.topic).to.equal(TOPIC);
      expect(again?.priority).to.equal(1);
      expect(again?.workerId).to.be.undefined;
      expect(again?.createdAt.getTime()).to.equal(START);
      expect(ids(await bed.claim('worker', 1))).to.deep.equal([created.id]);
    });

    it('hands out claimed records whose lock time cannot be moved by changing them', async () => {
      const task = await bed.create();
      const [claimed] = await bed.claim('worker', 1);
      tryToChange(() => claimed!.lockExpirationTime!.setTime(START));

      expect((await bed.repository.getById(task.id))?.lockExpirationTime?.getTime()).to.equal(START + 1000);
      expect(await bed.claim('other', 1)).to.deep.equal([]);
    });

    it('hands out a deeply frozen payload', async () => {
      const task = await bed.create({ payload: { lines: [{ sku: 'a' }] } });
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
}
