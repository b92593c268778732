import { expect } from 'chai';
import { expectTypeOf } from 'expect-type';
import {
  ExternalTaskApi,
  ExternalTaskWorker,
  InMemoryExternalTaskRepository,
  type ExternalTask,
  type ExternalTaskHandler,
  type JsonValue,
  type NewExternalTask,
} from 'external-task-api';

interface Order {
  readonly orderId: string;
  readonly amount: number;
}
interface Receipt {
  readonly invoiceNumber: string;
}

// The type checker runs the type assertions (`npm run typecheck`, part of `npm run lint`); mocha runs the
// calls, so that what the types promise is also what a worker and waitForOutcome hand over.
describe('typed payloads and results', () => {
  let api: ExternalTaskApi;
  let repository: InMemoryExternalTaskRepository;
  beforeEach(() => {
    repository = new InMemoryExternalTaskRepository();
    api = new ExternalTaskApi({ repository });
  });
  afterEach(() => api.close());

  it('keep JSON values as the defaults, so code without type arguments compiles as before', () => {
    expectTypeOf<ExternalTask['payload']>().toEqualTypeOf<JsonValue>();
    expectTypeOf<ExternalTask['result']>().toEqualTypeOf<JsonValue | undefined>();
    expectTypeOf<NewExternalTask['payload']>().toEqualTypeOf<unknown>();
    expectTypeOf<ExternalTaskHandler>().parameter(0).toEqualTypeOf<ExternalTask>();
    expectTypeOf<ExternalTaskHandler>().returns.toEqualTypeOf<unknown>();
    const waitUntyped = (id: string) => api.waitForOutcome(id);
    expectTypeOf(waitUntyped).returns.resolves.toEqualTypeOf<ExternalTask>();
    const worker = new ExternalTaskWorker(api, {
      topic: 'invoice',
      handler: (task) => {
        expectTypeOf(task).toEqualTypeOf<ExternalTask>();
        return undefined;
      },
    });
    expectTypeOf(worker).toEqualTypeOf<ExternalTaskWorker>();
  });

  it('declare the shapes once for the records, the handler and waitForOutcome', () => {
    expectTypeOf<ExternalTask<Order, Receipt>['payload']>().toEqualTypeOf<Order>();
    expectTypeOf<ExternalTask<Order, Receipt>['result']>().toEqualTypeOf<Receipt | undefined>();
    expectTypeOf<NewExternalTask<Order>['payload']>().toEqualTypeOf<Order | undefined>();
    expectTypeOf<ExternalTaskHandler<Order, Receipt>>().parameter(0).toEqualTypeOf<ExternalTask<Order>>();
    expectTypeOf<ExternalTaskHandler<Order, Receipt>>().returns.toEqualTypeOf<
      Receipt | PromiseLike<Receipt>
    >();
    const waitTyped = (id: string) => api.waitForOutcome<Order, Receipt>(id);
    expectTypeOf(waitTyped).returns.resolves.toEqualTypeOf<ExternalTask<Order, Receipt>>();
    // A handler whose parameter is annotated gives the worker its payload type.
    const inferred = new ExternalTaskWorker(api, {
      topic: 'invoice',
      handler: (task: ExternalTask<Order>) =>
        Promise.resolve({ invoiceNumber: `INV-${task.payload.orderId}` }),
    });
    expectTypeOf(inferred).toEqualTypeOf<ExternalTaskWorker<Order, { invoiceNumber: string }>>();
  });

  it('reject a handler that returns another shape than the declared result', () => {
    new ExternalTaskWorker<Order, Receipt>(api, {
      topic: 'invoice',
      // @ts-expect-error -- the declared result is a Receipt.
      handler: (task) => ({ invoice: task.payload.orderId }),
    });
    new ExternalTaskWorker<Order, Receipt>(api, {
      topic: 'invoice',
      // @ts-expect-error -- Order has no `customer`.
      handler: (task) => ({ invoiceNumber: String(task.payload.customer) }),
    });
  });

  it('hand the worker’s handler and the waiting engine the records as declared', async () => {
    const order: Order = { orderId: '17', amount: 120 };
    const task: NewExternalTask<Order> = {
      topic: 'invoice',
      correlationId: 'c',
      processInstanceId: 'p',
      flowNodeInstanceId: 'f',
      payload: order,
    };
    const created = await repository.create(task);
    const outcome = api.waitForOutcome<Order, Receipt>(created.id);
    const seen: Order[] = [];
    const worker = new ExternalTaskWorker<Order, Receipt>(api, {
      topic: 'invoice',
      identity: { token: 'secret' },
      handler: ({ payload }) => {
        seen.push(payload);
        return Promise.resolve({ invoiceNumber: `INV-${payload.orderId}` });
      },
    });
    await worker.start();
    try {
      const finished = await outcome;
      expect(seen).to.deep.equal([order]);
      expect(finished.payload.amount).to.equal(120);
      expect(finished.result?.invoiceNumber).to.equal('INV-17');
    } finally {
      await worker.stop();
    }
  });

  it('type the records of api.engine by a type argument, and leave them JSON values without one', async () => {
    const ids = { topic: 'orders', flowNodeInstanceId: 'f', correlationId: 'c', processInstanceId: 'p' };
    const order: Order = { orderId: 'o-1', amount: 5 };

    const untyped = await api.engine.create({ ...ids, payload: { any: 'json' } });
    expectTypeOf(untyped).toEqualTypeOf<ExternalTask>();
    const typed = await api.engine.create<Order>({ ...ids, flowNodeInstanceId: 'f-2', payload: order });
    expectTypeOf(typed.payload).toEqualTypeOf<Order>();
    const many = await api.engine.createMany<Order>([{ ...ids, flowNodeInstanceId: 'f-3', payload: order }]);
    expectTypeOf(many).toEqualTypeOf<ExternalTask<Order>[]>();
    const read = await api.engine.getById<Order, Receipt>(typed.id);
    expectTypeOf(read).toEqualTypeOf<ExternalTask<Order, Receipt> | undefined>();
    expect(read?.payload).to.deep.equal(order);
    expect(many[0]?.payload).to.deep.equal(order);

    // Never called: the type checker refuses a payload that is not the declared shape.
    const wrongShape = () =>
      // @ts-expect-error orderId must be a string
      api.engine.create<Order>({ ...ids, payload: { orderId: 1, amount: 5 } });
    expect(wrongShape).to.be.a('function');
  });
});
