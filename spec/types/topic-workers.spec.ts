import { expect } from 'chai';
import { expectTypeOf } from 'expect-type';
import {
  ExternalTaskApi,
  ExternalTaskWorker,
  InMemoryExternalTaskRepository,
  type ExternalTaskService,
} from 'external-task-api';
import { createHttpHandler, HttpExternalTaskClient } from 'external-task-api/http';
import { listen } from '../http/transports.js';
import { silentLogger } from '../worker/worker-fixtures.js';
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

/** The options every worker below shares: quiet, quick to stop. */
const quiet = { identity, logger: silentLogger(), stopGracePeriod: 0 } as const;

// The type checker runs the type assertions and the @ts-expect-error lines (`npm run typecheck`, part of
// `npm run lint`); mocha runs the workers, so that the handlers get what their types say.
describe('workers over an api typed by a topic map', () => {
  let api: ExternalTaskApi<Topics>;
  beforeEach(() => {
    api = new ExternalTaskApi<Topics>({ repository: new InMemoryExternalTaskRepository() });
  });
  afterEach(() => api.close());

  it('give the handler of one topic its records, and take only its result', async () => {
    const worker = new ExternalTaskWorker(api, {
      ...quiet,
      topic: 'send-invoice',
      handler: (task) => {
        expectTypeOf(task).toEqualTypeOf<InvoiceTask>();
        return { invoiceNumber: `INV-${task.payload.customer}` };
      },
    });
    expectTypeOf(worker).toEqualTypeOf<ExternalTaskWorker<Invoice, Receipt, InvoiceTask>>();
    const results: Receipt[] = [];
    worker.events.on('worker:task:finished', ({ task, result }) => {
      expectTypeOf(task).toEqualTypeOf<InvoiceTask>();
      expectTypeOf(result).toEqualTypeOf<Receipt>();
      results.push(result);
    });
    const { id } = await api.engine.create({
      topic: 'send-invoice',
      ...ids,
      payload: { customer: 'ACME', amount: 1 },
    });
    await worker.start();
    try {
      const finished = await api.waitForOutcome(id);
      expect(finished.topic === 'send-invoice' && finished.result).to.deep.equal({
        invoiceNumber: 'INV-ACME',
      });
      await worker.onIdle(); // the worker's event follows the api's outcome
      expect(results).to.deep.equal([{ invoiceNumber: 'INV-ACME' }]);
    } finally {
      await worker.stop();
    }
  });

  it('give a handler of several topics a union that task.topic narrows', async () => {
    const seen: string[] = [];
    const worker = new ExternalTaskWorker(api, {
      ...quiet,
      topic: ['send-invoice', 'archive'],
      handler: (task) => {
        expectTypeOf(task).toEqualTypeOf<InvoiceTask | ArchiveTask>();
        if (task.topic === 'archive') {
          seen.push(`archive ${task.payload?.documentId ?? 'nothing'}`);
          return undefined;
        }
        seen.push(`invoice ${task.payload.amount}`);
        return { invoiceNumber: 'INV-1' };
      },
    });
    worker.events.on('worker:task:started', ({ task }) => {
      expectTypeOf(task).toEqualTypeOf<InvoiceTask | ArchiveTask>();
    });
    const invoice = await api.engine.create({
      topic: 'send-invoice',
      ...ids,
      payload: { customer: 'A', amount: 7 },
    });
    const archive = await api.engine.create({ topic: 'archive', ...ids, flowNodeInstanceId: 'f-2' });
    await worker.start();
    try {
      const outcomes = await Promise.all([api.waitForOutcome(invoice.id), api.waitForOutcome(archive.id)]);
      expect(outcomes.map(({ state }) => state)).to.deep.equal(['finished', 'finished']);
      expect([...seen].sort()).to.deep.equal(['archive nothing', 'invoice 7']);
    } finally {
      await worker.stop();
    }
  });

  it('do not compile with a topic, a payload or a result the map does not declare', () => {
    // Never called: each construction is refused by the type checker, none falls back to untyped.
    const refused = () => [
      // @ts-expect-error -- a topic the map does not know
      new ExternalTaskWorker(api, { topic: 'sned-invoice', handler: () => undefined }),
      // @ts-expect-error -- send-invoice's result is a Receipt
      new ExternalTaskWorker(api, { topic: 'send-invoice', handler: () => ({ invoice: 'INV-1' }) }),
      // @ts-expect-error -- count-words' result is { words }, though an untyped worker would take this
      new ExternalTaskWorker(api, { topic: 'count-words', handler: () => ({ letters: 1 }) }),
      // @ts-expect-error -- its payload's text is a string, the result's words a number
      new ExternalTaskWorker(api, {
        topic: 'count-words',
        handler: (task) => ({ words: task.payload.text }),
      }),
      // @ts-expect-error -- a handler of two topics returns one of their results
      new ExternalTaskWorker(api, { topic: ['send-invoice', 'archive'], handler: () => ({ words: 3 }) }),
    ];
    expect(refused).to.be.a('function');
  });

  it('carry the map over HTTP: the client’s fetches and workers are typed as the api’s', async () => {
    // A typed api is served like any other…
    const server = await listen(createHttpHandler(api, { allowAnyToken: true, logger: silentLogger() }));
    const client = new HttpExternalTaskClient<Topics>({ baseUrl: `${server.origin}/api/external_task/v1` });
    expectTypeOf(client).toExtend<ExternalTaskService<AnyTask>>();
    const fetchTyped = () => client.fetchAndLockExternalTasks(identity, 'w', 'archive', 1, 0, 1000);
    expectTypeOf(fetchTyped).returns.resolves.toEqualTypeOf<AnyTask[]>();
    // @ts-expect-error -- the client knows the map's topics
    const fetchUnknown = () => client.fetchAndLockExternalTasks(identity, 'w', 'nope', 1, 0, 1000);
    expect([fetchTyped, fetchUnknown]).to.have.length(2);

    // …and a worker over the client is typed by the map as one over the api is.
    const worker = new ExternalTaskWorker(client, {
      ...quiet,
      topic: 'count-words',
      handler: (task) => {
        expectTypeOf(task.payload).toEqualTypeOf<{ text: string }>();
        return { words: task.payload.text.split(' ').length };
      },
    });
    const { id } = await api.engine.create({
      topic: 'count-words',
      ...ids,
      payload: { text: 'one two three' },
    });
    await worker.start();
    try {
      const finished = await api.waitForOutcome(id);
      expect(finished.topic === 'count-words' && finished.result).to.deep.equal({ words: 3 });
    } finally {
      await worker.stop();
      await server.close();
    }
  });
});
