import { expect } from 'chai';
import type { NewExternalTask } from '../../model/index.js';
import { cyclicObject, newTask, ONE_MIB, START, TOPIC, UNKNOWN_ID } from './case-inputs.js';
import type { ContractBed } from './contract-bed.js';
import { expectBadRequest, ids, rejectionOf, UUID } from './expectations.js';

/** create and getById, with and without a retry budget. */
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
}
