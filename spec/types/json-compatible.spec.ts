import { expect } from 'chai';
import {
  ExternalTaskApi,
  InMemoryExternalTaskRepository,
  type JsonCompatible,
  type JsonValue,
  type TopicMap,
} from 'external-task-api';
import { HttpExternalTaskClient } from 'external-task-api/http';

/** Compiles only for a tuple of JSON shapes (a tuple: a type parameter cannot be bound by itself). */
function json<T extends { readonly [K in keyof T]: JsonCompatible<T[K]> }>(): void {}
/** Compiles only for a topic map whose payloads and results are JSON shapes. */
function topics<Topics extends TopicMap<Topics>>(): void {}

interface Order {
  readonly orderId: string;
  readonly amount: number;
  readonly note?: string;
  readonly lines: readonly { readonly sku: string; readonly quantity: number }[];
}
interface Tree {
  readonly label: string;
  readonly children: readonly Tree[];
}
interface WithMethod {
  readonly name: string;
  greet(): string;
}

// The type checker runs these (`npm run typecheck`, part of `npm run lint`); each @ts-expect-error line
// must fail to compile, else the check fails. Mocha runs the last test, which shows what the store does
// with what the types refuse.
describe('JsonCompatible and the topic map constraint', () => {
  it('accept what a JSON round trip keeps: interfaces, type literals, recursion, unions, tuples', () => {
    json<[Order]>();
    json<[Tree]>();
    json<[{ kind: 'a'; n: number } | { kind: 'b'; s: string }]>();
    json<[readonly [string, number]]>();
    json<[Record<string, number>]>();
    json<[JsonValue]>();
    json<[null]>();
    json<['literal' | 42 | true]>();
    json<[{ readonly optional?: string }]>();
    // unknown and any declare nothing: they pass (the store still refuses what is not JSON).
    json<[unknown]>();
    json<[{ readonly anything: unknown }]>();
  });

  it('refuse a Date, a function, an object with methods, undefined, a bigint and a symbol', () => {
    // @ts-expect-error -- a Date arrives as a string
    json<[{ readonly at: Date }]>();
    // @ts-expect-error -- a Date deep inside
    json<[{ readonly a: { readonly b: readonly { readonly at: Date }[] } }]>();
    // @ts-expect-error -- a function
    json<[{ readonly callback: () => void }]>();
    // @ts-expect-error -- an object with methods
    json<[WithMethod]>();
    // @ts-expect-error -- a Map's entries are no properties
    json<[Map<string, string>]>();
    // @ts-expect-error -- JSON drops a property holding undefined: the record would lack the key
    json<[{ readonly maybe: string | undefined }]>();
    // @ts-expect-error -- the same, declared optional and undefined (under exactOptionalPropertyTypes)
    json<[{ readonly maybe?: string | undefined }]>();
    // @ts-expect-error -- an array cannot hold undefined
    json<[readonly (string | undefined)[]]>();
    // @ts-expect-error -- a bigint
    json<[{ readonly big: bigint }]>();
    // @ts-expect-error -- a symbol
    json<[{ readonly tag: symbol }]>();
    // @ts-expect-error -- undefined is no payload (a task without one holds null)
    json<[undefined]>();
  });

  it('check every payload and result of a topic map where the api or the client is given it', () => {
    topics<{ invoice: { payload: Order; result: { invoiceNumber: string } } }>();
    interface DeclaredAsInterface {
      readonly invoice: { readonly payload: Order | null; readonly result: undefined };
    }
    topics<DeclaredAsInterface>();
    // A result may be undefined: the handler returns nothing.
    topics<{ archive: { payload: null; result: { id: string } | undefined } }>();
    // @ts-expect-error -- a Date in a payload
    topics<{ invoice: { payload: { dueAt: Date }; result: null } }>();
    // @ts-expect-error -- a function in a result
    topics<{ invoice: { payload: null; result: { then: () => void } } }>();
    // @ts-expect-error -- a property declared undefined in a payload
    topics<{ invoice: { payload: { note: string | undefined }; result: null } }>();
    // @ts-expect-error -- a topic declares its result too
    topics<{ invoice: { payload: Order } }>();

    const repository = new InMemoryExternalTaskRepository();
    const typeOnly = () => {
      // @ts-expect-error -- the api refuses the map as the constraint does
      new ExternalTaskApi<{ invoice: { payload: { dueAt: Date }; result: null } }>({ repository });
      // @ts-expect-error -- and so does the HTTP client
      new HttpExternalTaskClient<{ invoice: { payload: null; result: () => void } }>({ baseUrl: 'http://x' });
    };
    expect(typeOnly).to.be.a('function');
  });

  it('refuse at compile time what the store refuses at run time with a 400', async () => {
    const api = new ExternalTaskApi({ repository: new InMemoryExternalTaskRepository() });
    try {
      const task = { topic: 't', correlationId: 'c', processInstanceId: 'p', flowNodeInstanceId: 'f' };
      // The untyped form compiles, and the store refuses the Date…
      const refused = await api.engine.create({ ...task, payload: { dueAt: new Date() } }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).to.include({ status: 400, argument: 'payload.dueAt' });
      // …which a declared shape refuses before it runs.
      const typed = () =>
        // @ts-expect-error -- a Date is no JSON value
        api.engine.create<{ dueAt: Date }>({ ...task, payload: { dueAt: new Date() } });
      expect(typed).to.be.a('function');
    } finally {
      await api.close();
    }
  });
});
