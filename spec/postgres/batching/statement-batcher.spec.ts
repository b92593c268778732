import { expect } from 'chai';
import sinon from 'sinon';
import {
  StatementBatcher,
  type StatementBatcherOptions,
} from '../../../lib/postgres/batching/statement-batcher.js';

interface Request {
  readonly shape: string;
  readonly task?: string;
  readonly weight?: number;
  readonly value: number;
}

/** A statement the test settles by hand, with the requests it was given. */
interface Statement {
  readonly batch: readonly Request[];
  answer(): void;
  fail(error: unknown): void;
}

/** A batcher whose statements wait for the test; answers each request's value doubled. */
function harness(options: Partial<StatementBatcherOptions<Request, number>> = {}) {
  const statements: Statement[] = [];
  const batcher = new StatementBatcher<Request, number>({
    shapeOf: (request) => request.shape,
    conflictOf: (request) => request.task ?? `value-${request.value}`,
    weightOf: (request) => request.weight ?? 1,
    maxWeight: 100,
    maxInFlight: 1,
    run: (batch) =>
      new Promise((resolve, reject) => {
        statements.push({
          batch,
          answer: () => resolve(batch.map((request) => request.value * 2)),
          fail: reject,
        });
      }),
    ...options,
  });
  return { batcher, statements };
}

/** The event loop's own `setImmediate`, also while a test fakes timers. */
const { setImmediate: atEndOfTurn } = globalThis;

/** Lets this turn of the event loop end (a flush is scheduled for its end), also under fake timers. */
const settle = (): Promise<void> => new Promise((resolve) => atEndOfTurn(resolve));

describe('StatementBatcher', () => {
  it('starts a lone request in the same turn of the event loop, with no timer, also under fake timers', async () => {
    // Every kind of timer faked, so that a statement waiting for one would never start.
    const clock = sinon.useFakeTimers({
      toFake: ['setTimeout', 'setInterval', 'setImmediate', 'nextTick', 'hrtime', 'performance', 'Date'],
    });
    try {
      const { batcher, statements } = harness();
      const answer = batcher.submit({ shape: 'a', value: 1 });
      // Counted before the turn ends: other code's I/O callbacks in it may queue faked jobs of their own.
      expect(clock.countTimers()).to.equal(0);
      await settle();
      expect(statements).to.have.length(1);
      statements[0]!.answer();
      expect(await answer).to.equal(2);
    } finally {
      clock.restore();
    }
  });

  it('puts the requests made in one turn in one statement, each with its own answer', async () => {
    const { batcher, statements } = harness();
    const answers = Promise.all([1, 2, 3].map((value) => batcher.submit({ shape: 'a', value })));
    await settle();
    expect(statements.map((statement) => statement.batch.map((request) => request.value))).to.deep.equal([
      [1, 2, 3],
    ]);
    statements[0]!.answer();
    expect(await answers).to.deep.equal([2, 4, 6]);
  });

  it('puts requests made in one turn together, also when they come some promise jobs apart', async () => {
    // As callers resumed by one answer do when their ways back to the store differ in length.
    const { batcher, statements } = harness();
    const first = batcher.submit({ shape: 'a', value: 1 });
    for (let job = 0; job < 10; job++) await Promise.resolve();
    const second = batcher.submit({ shape: 'a', value: 2 });
    await settle();
    expect(statements.map((statement) => statement.batch.map((request) => request.value))).to.deep.equal([
      [1, 2],
    ]);
    statements[0]!.answer();
    expect(await Promise.all([first, second])).to.deep.equal([2, 4]);
  });

  it('queues the requests that come while a statement is in flight, and sends them together next', async () => {
    const { batcher, statements } = harness();
    const first = batcher.submit({ shape: 'a', value: 1 });
    await settle();
    const later = Promise.all([2, 3, 4].map((value) => batcher.submit({ shape: 'a', value })));
    await settle();
    expect(statements).to.have.length(1);
    expect(batcher.queued).to.equal(3);
    statements[0]!.answer();
    expect(await first).to.equal(2);
    await settle();
    expect(statements[1]!.batch.map((request) => request.value)).to.deep.equal([2, 3, 4]);
    statements[1]!.answer();
    expect(await later).to.deep.equal([4, 6, 8]);
    expect(batcher.running).to.equal(0);
  });

  it('never puts two shapes in one statement, and keeps queue order', async () => {
    const { batcher, statements } = harness({ maxInFlight: 3 });
    const answers = Promise.all(
      [
        { shape: 'a', value: 1 },
        { shape: 'b', value: 2 },
        { shape: 'a', value: 3 },
        { shape: 'b', value: 4 },
      ].map((request) => batcher.submit(request)),
    );
    await settle();
    expect(statements.map((statement) => statement.batch.map((request) => request.value))).to.deep.equal([
      [1, 3],
      [2, 4],
    ]);
    for (const statement of statements) statement.answer();
    expect(await answers).to.deep.equal([2, 4, 6, 8]);
  });

  it('runs two requests of one task in two statements, one after the other, in the order asked', async () => {
    const { batcher, statements } = harness({ maxInFlight: 4 });
    const answers = Promise.all(
      [
        { shape: 'a', task: 'x', value: 1 },
        { shape: 'a', task: 'y', value: 2 },
        { shape: 'b', task: 'x', value: 3 },
        { shape: 'a', task: 'x', value: 4 },
      ].map((request) => batcher.submit(request)),
    );
    await settle();
    // 3 and 4 wait for 1 (task x); 4 may not overtake 3.
    expect(statements.map((statement) => statement.batch.map((request) => request.value))).to.deep.equal([
      [1, 2],
    ]);
    statements[0]!.answer();
    await settle();
    expect(statements[1]!.batch.map((request) => request.value)).to.deep.equal([3]);
    expect(statements).to.have.length(2);
    statements[1]!.answer();
    await settle();
    expect(statements[2]!.batch.map((request) => request.value)).to.deep.equal([4]);
    statements[2]!.answer();
    expect(await answers).to.deep.equal([2, 4, 6, 8]);
  });

  it('carries at most maxWeight in a statement, and a heavier request alone', async () => {
    const { batcher, statements } = harness({ maxWeight: 10, maxInFlight: 3 });
    const answers = Promise.all(
      [
        { shape: 'a', weight: 6, value: 1 },
        { shape: 'a', weight: 6, value: 2 },
        { shape: 'a', weight: 4, value: 3 },
        { shape: 'a', weight: 25, value: 4 },
      ].map((request) => batcher.submit(request)),
    );
    await settle();
    expect(statements.map((statement) => statement.batch.map((request) => request.value))).to.deep.equal([
      [1, 3],
      [2],
      [4],
    ]);
    for (const statement of statements) statement.answer();
    expect(await answers).to.deep.equal([2, 4, 6, 8]);
  });

  it('keeps at most maxInFlight statements in flight', async () => {
    const { batcher, statements } = harness({ maxInFlight: 2, maxWeight: 1 });
    const answers = Promise.all([1, 2, 3, 4, 5].map((value) => batcher.submit({ shape: 'a', value })));
    await settle();
    expect(statements).to.have.length(2);
    expect(batcher.running).to.equal(2);
    statements[0]!.answer();
    await settle();
    expect(statements).to.have.length(3);
    for (const statement of statements.slice(1)) statement.answer();
    await settle();
    for (const statement of statements.slice(3)) statement.answer();
    expect(await answers).to.deep.equal([2, 4, 6, 8, 10]);
  });

  it('keeps at most maxInFlightPerShape statements of one shape in flight, while other shapes go beside them', async () => {
    const { batcher, statements } = harness({ maxInFlight: 3, maxInFlightPerShape: 1, maxWeight: 2 });
    const answers = Promise.all(
      [
        { shape: 'a', value: 1 },
        { shape: 'a', value: 2 },
        { shape: 'a', value: 3 },
        { shape: 'b', value: 4 },
        { shape: 'a', value: 5 },
      ].map((request) => batcher.submit(request)),
    );
    await settle();
    const sent = () => statements.map((statement) => statement.batch.map((request) => request.value));
    expect(sent()).to.deep.equal([[1, 2], [4]]);
    statements[0]!.answer();
    await settle();
    expect(sent()).to.deep.equal([[1, 2], [4], [3, 5]]);
    for (const statement of statements.slice(1)) statement.answer();
    expect(await answers).to.deep.equal([2, 4, 6, 8, 10]);
  });

  it('rejects every caller of a failing statement with its cause, and goes on with the next', async () => {
    const { batcher, statements } = harness();
    const cause = new Error('statement failed');
    const first = batcher.submit({ shape: 'a', value: 1 });
    await settle();
    const failing = [2, 3].map((value) => batcher.submit({ shape: 'a', value }));
    statements[0]!.answer();
    await settle();
    statements[1]!.fail(cause);
    for (const answer of failing) expect(await answer.catch((error: unknown) => error)).to.equal(cause);
    expect(await first).to.equal(2);
    const after = batcher.submit({ shape: 'a', value: 4 });
    await settle();
    statements[2]!.answer();
    expect(await after).to.equal(8);
  });

  it('rejects every caller when run throws or answers the wrong number of requests', async () => {
    const thrown = new Error('cannot start');
    const throwing = new StatementBatcher<Request, number>({
      shapeOf: () => '',
      maxWeight: 10,
      maxInFlight: 1,
      run: () => {
        throw thrown;
      },
    });
    const results = await Promise.allSettled([1, 2].map((value) => throwing.submit({ shape: '', value })));
    expect(results.map((result) => result.status === 'rejected' && (result.reason as unknown))).to.deep.equal(
      [thrown, thrown],
    );

    const short = new StatementBatcher<Request, number>({
      shapeOf: () => '',
      maxWeight: 10,
      maxInFlight: 1,
      run: () => Promise.resolve([1]),
    });
    const answers = await Promise.allSettled([1, 2].map((value) => short.submit({ shape: '', value })));
    for (const answer of answers) expect(answer.status).to.equal('rejected');
    expect(short.running).to.equal(0);
  });
});
