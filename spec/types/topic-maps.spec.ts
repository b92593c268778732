import { expect } from 'chai';
import { expectTypeOf } from 'expect-type';
import {
  ExternalTaskApi,
  InMemoryExternalTaskRepository,
  type ContainedEventEmitter,
  type ExternalTask,
  type ExternalTaskEvents,
  type ExternalTaskPage,
  type JsonValue,
  type NewExternalTask,
  type TaskOf,
  type UntypedTopics,
} from 'external-task-api';
import {
  identity,
  ids,
  type AnyTask,
  type ArchiveTask,
  type Invoice,
  type InvoiceTask,
  type Receipt,
  type Topics,
} from './topic-fixtures.js';

// The type checker runs the type assertions and the @ts-expect-error lines (`npm run typecheck`, part of
// `npm run lint`); mocha runs the calls, so that the records are what their types say.
describe('an api typed by a topic map', () => {
  let api: ExternalTaskApi<Topics>;
  beforeEach(() => {
    api = new ExternalTaskApi<Topics>({ repository: new InMemoryExternalTaskRepository() });
  });
  afterEach(() => api.close());

  it('leaves an api without one as it was: ExternalTask records, any topic, any JSON', () => {
    expectTypeOf<ExternalTaskApi>().toEqualTypeOf<ExternalTaskApi<UntypedTopics>>();
    expectTypeOf<TaskOf<UntypedTopics>>().toEqualTypeOf<ExternalTask>();
    const untyped = new ExternalTaskApi({ repository: new InMemoryExternalTaskRepository() });
    const calls = () => {
      expectTypeOf(untyped.engine.create({ topic: 'any', ...ids })).resolves.toEqualTypeOf<ExternalTask>();
      expectTypeOf(untyped.engine.query({ topic: 'any' })).resolves.toEqualTypeOf<ExternalTaskPage>();
      expectTypeOf(untyped.waitForOutcome('id')).resolves.toEqualTypeOf<ExternalTask>();
      expectTypeOf(
        untyped.fetchAndLockExternalTasks(identity, 'w', 'any', 1, 0, 1000),
      ).resolves.toEqualTypeOf<ExternalTask[]>();
      untyped.events.on('task:finished', ({ task, result }) => {
        expectTypeOf(task).toEqualTypeOf<ExternalTask>();
        expectTypeOf(result).toEqualTypeOf<JsonValue | undefined>();
      });
      expectTypeOf(untyped.events).toEqualTypeOf<ContainedEventEmitter<ExternalTaskEvents>>();
    };
    expect(calls).to.be.a('function');
    return untyped.close();
  });

  it('creates tasks of its topics only, each with its payload shape, and answers their records', async () => {
    const invoice = await api.engine.create({
      topic: 'send-invoice',
      ...ids,
      payload: { customer: 'ACME', amount: 120 },
    });
    expectTypeOf(invoice).toEqualTypeOf<InvoiceTask>();
    expect(invoice.payload.customer).to.equal('ACME');

    const many = await api.engine.createMany([
      { topic: 'send-invoice', ...ids, flowNodeInstanceId: 'f-2', payload: { customer: 'B', amount: 1 } },
      { topic: 'archive', ...ids, flowNodeInstanceId: 'f-3', payload: { documentId: 'd-1' } },
    ]);
    expectTypeOf(many).toEqualTypeOf<(InvoiceTask | ArchiveTask)[]>();
    expect(many.map((task) => task.topic)).to.deep.equal(['send-invoice', 'archive']);

    // Never called: what the map does not allow does not compile.
    const refused = () => {
      // @ts-expect-error -- a topic the map does not know
      void api.engine.create({ topic: 'sned-invoice', ...ids, payload: { customer: 'A', amount: 1 } });
      // @ts-expect-error -- the payload of another topic
      void api.engine.create({ topic: 'send-invoice', ...ids, payload: { documentId: 'd' } });
      // @ts-expect-error -- in createMany too
      void api.engine.createMany([{ topic: 'archive', ...ids, payload: { customer: 'A', amount: 1 } }]);
      // @ts-expect-error -- on a typed api the map declares the shapes, not a type argument
      void api.engine.create<Invoice>({
        topic: 'send-invoice',
        ...ids,
        payload: { customer: 'A', amount: 1 },
      });
    };
    expect(refused).to.be.a('function');
  });

  it('types a task created without a payload as what it is: null, only where the map admits null', async () => {
    const archived = await api.engine.create({ topic: 'archive', ...ids });
    expectTypeOf(archived.payload).toEqualTypeOf<{ readonly documentId: string } | null>();
    expect(archived.payload).to.equal(null);

    const refused = () =>
      // @ts-expect-error -- send-invoice's payload does not admit null, so it must be given
      api.engine.create({ topic: 'send-invoice', ...ids });
    expect(refused).to.be.a('function');

    // On an untyped api, a declared shape says the same.
    const untyped = new ExternalTaskApi({ repository: new InMemoryExternalTaskRepository() });
    const nullable = await untyped.engine.create<Invoice | null>({ topic: 'send-invoice', ...ids });
    expect(nullable.payload).to.equal(null);
    // @ts-expect-error -- an Invoice must be given: the task would hold null
    const required = () => untyped.engine.create<Invoice>({ topic: 'send-invoice', ...ids });
    expect(required).to.be.a('function');
    const legacy: NewExternalTask<Invoice> = { topic: 'send-invoice', ...ids };
    expectTypeOf(await untyped.engine.create(legacy)).toEqualTypeOf<ExternalTask>(); // JSON values, null included
    await untyped.close();
  });

  it('answers reads, queries and operator controls with records that task.topic narrows', async () => {
    const created = await api.engine.create({ topic: 'archive', ...ids, payload: null });
    const read = await api.engine.getById(created.id);
    expectTypeOf(read).toEqualTypeOf<AnyTask | undefined>();
    if (read?.topic === 'archive') expectTypeOf(read.payload).toEqualTypeOf<ArchiveTask['payload']>();

    const archives = await api.engine.query({ topic: 'archive' });
    expectTypeOf(archives.tasks).toEqualTypeOf<ArchiveTask[]>();
    expect(archives.tasks.map((task) => task.id)).to.deep.equal([created.id]);
    const both = await api.engine.query({ topic: ['archive', 'send-invoice'] });
    expectTypeOf(both.tasks).toEqualTypeOf<(ArchiveTask | InvoiceTask)[]>();
    expectTypeOf((await api.engine.query({})).tasks).toEqualTypeOf<AnyTask[]>();

    const prioritised = await api.engine.setPriority(created.id, 5);
    expectTypeOf(prioritised).toEqualTypeOf<AnyTask>();
    expect(prioritised.priority).to.equal(5);
    // @ts-expect-error -- a topic the map does not know
    const unknownTopic = () => api.engine.query({ topic: 'nope' });
    expect(unknownTopic).to.be.a('function');
  });

  it('hands fetches, events, waitForOutcome and consumeOutcomes the records of its topics', async () => {
    const created: string[] = [];
    const finishedResults: (Receipt | undefined)[] = [];
    api.events.on('task:created', ({ task }) => {
      expectTypeOf(task).toEqualTypeOf<AnyTask>();
      if (task.topic === 'send-invoice') created.push(task.payload.customer);
    });
    api.events.on('task:finished', ({ task, result }) => {
      expectTypeOf(result).toEqualTypeOf<Receipt | { words: number } | undefined>();
      if (task.topic === 'send-invoice') finishedResults.push(task.result);
    });
    const consumed: string[] = [];
    await api.consumeOutcomes({
      after: 'now',
      onOutcome: ({ task }) => {
        expectTypeOf(task).toEqualTypeOf<AnyTask>();
        if (task.topic === 'send-invoice') consumed.push(task.result?.invoiceNumber ?? '');
      },
    });

    const { id } = await api.engine.create({
      topic: 'send-invoice',
      ...ids,
      payload: { customer: 'ACME', amount: 1 },
    });
    const outcome = api.waitForOutcome(id);
    const [task] = await api.fetchAndLock(identity, {
      workerId: 'w',
      topics: [{ topicName: 'send-invoice', lockDuration: 1000 }],
      maxTasks: 1,
    });
    expectTypeOf(task).toEqualTypeOf<AnyTask | undefined>();
    if (task?.topic !== 'send-invoice') throw new Error('no invoice fetched');
    const receipt: Receipt = { invoiceNumber: `INV-${task.payload.customer}` };
    await api.finishExternalTask(identity, 'w', task.id, receipt);

    const finished = await outcome;
    expectTypeOf(finished).toEqualTypeOf<AnyTask>();
    expect(finished.topic === 'send-invoice' && finished.result).to.deep.equal(receipt);
    expect({ created, finishedResults, consumed }).to.deep.equal({
      created: ['ACME'],
      finishedResults: [receipt],
      consumed: ['INV-ACME'],
    });

    const refused = () => {
      // @ts-expect-error -- a fetch names topics of the map
      void api.fetchAndLockExternalTasks(identity, 'w', 'sned-invoice', 1, 0, 1000);
      void api.fetchAndLock(identity, {
        workerId: 'w',
        // @ts-expect-error -- in the options form too
        topics: [{ topicName: 'x', lockDuration: 1 }],
        maxTasks: 1,
      });
    };
    expect(refused).to.be.a('function');
  });
});
