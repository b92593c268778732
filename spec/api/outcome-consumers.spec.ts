import type { PGlite } from '@electric-sql/pglite';
import { expect } from 'chai';
import { expectTypeOf } from 'expect-type';
import {
  BadRequestError,
  ExternalTaskApi,
  type ChangeFeed,
  type ChangeSubscriber,
  type ConsumeOutcomesAfterOptions,
  type ConsumeOutcomesOptions,
  type ExternalTaskRepository,
} from '../../lib/index.js';
import type { PgliteInstance } from '../../lib/postgres/index.js';
import { createStubRepository } from '../../lib/testing/index.js';
import { durableStores } from '../support/durable-stores.js';
import { identity, newTask, rejectionOf } from '../support/fixtures.js';

const minute = 60_000;

/** What the engine keeps in its own database across its lives: here, a variable. */
interface EngineState {
  lastOutcomePosition?: number;
}

/**
 * One life of an engine that consumes outcomes as docs/guide.md shows: on its first start it stores the
 * store's current position before it creates anything, then consumes after the stored position.
 */
async function startEngine(api: ExternalTaskApi, state: EngineState, heard: string[]): Promise<ChangeFeed> {
  state.lastOutcomePosition ??= await api.engine.currentPosition();
  return api.consumeOutcomes({
    after: state.lastOutcomePosition,
    onOutcome: ({ task, position }) => {
      heard.push(task.id);
      state.lastOutcomePosition = position;
    },
  });
}

/** Resolves once `heard` holds `count` ids (checked as each outcome is handled), failing by the test's timeout. */
function hearing(heard: string[], count: number): Promise<void> {
  return new Promise((resolve) => {
    const push = heard.push.bind(heard);
    heard.push = (...ids) => {
      const length = push(...ids);
      if (length >= count) resolve();
      return length;
    };
    if (heard.length >= count) resolve();
  });
}

describe('ExternalTaskApi.consumeOutcomes: where it starts', () => {
  it('types after as required: a position (a number), oldest or now', () => {
    expectTypeOf<ConsumeOutcomesAfterOptions['after']>().toEqualTypeOf<number | 'oldest' | 'now'>();
    // @ts-expect-error -- a start must be given
    const missing: ConsumeOutcomesOptions = { onOutcome: () => undefined };
    // @ts-expect-error -- a position is a number: a bigint column's string must be converted
    const text: ConsumeOutcomesOptions = { after: '12', onOutcome: () => undefined };
    expect([missing, text]).to.have.length(2);
    expectTypeOf<PGlite>().toExtend<PgliteInstance>(); // the PGlite connection the stores above are given
  });

  for (const store of durableStores) {
    describe(`on ${store.name}`, function () {
      this.timeout(60_000);
      before(async function () {
        await store.prepare(this);
      });
      afterEach(() => store.cleanup());

      it('an engine that stops before its first outcome hears, after its restart, every outcome it missed', async () => {
        const state: EngineState = {};
        const heard: string[] = [];

        // First life: the engine starts, creates 5 tasks, and is gone before any outcome.
        const first = await store.open();
        const engine = new ExternalTaskApi({ repository: first.repository });
        await startEngine(engine, state, heard);
        const tasks = await engine.engine.createMany(Array.from({ length: 5 }, () => newTask()));
        await engine.close();
        await first.close();

        // While the engine is down, a worker process finishes them all.
        const worker = await store.open();
        const service = new ExternalTaskApi({ repository: worker.repository });
        const locked = await service.fetchAndLockExternalTasks(identity, 'w', 'invoice', 5, 0, minute);
        expect(locked).to.have.length(5);
        for (const task of locked) await service.finishExternalTask(identity, 'w', task.id, { done: true });
        await service.close();
        await worker.close();

        // Second life: the engine starts again from what it stored.
        const second = await store.open();
        const restarted = new ExternalTaskApi({ repository: second.repository });
        try {
          const heardAll = hearing(heard, 5);
          await startEngine(restarted, state, heard);
          await heardAll;
          expect(heard).to.deep.equal(tasks.map((task) => task.id));
        } finally {
          await restarted.close();
          await second.close();
        }
      });

      it("'oldest' hands over every retained outcome, 'now' only the later ones", async () => {
        const { repository, close } = await store.open();
        const api = new ExternalTaskApi({ repository });
        try {
          const [before] = await api.engine.createMany([newTask()]);
          await api.engine.cancel({ externalTaskId: before!.id });
          const fromOldest: string[] = [];
          const fromNow: string[] = [];
          const oldestHeardBoth = hearing(fromOldest, 2);
          const nowHeardOne = hearing(fromNow, 1);
          await api.consumeOutcomes({
            after: 'oldest',
            onOutcome: ({ task }) => void fromOldest.push(task.id),
          });
          await api.consumeOutcomes({ after: 'now', onOutcome: ({ task }) => void fromNow.push(task.id) });
          const [later] = await api.engine.createMany([newTask()]);
          await api.engine.cancel({ externalTaskId: later!.id });
          await Promise.all([oldestHeardBoth, nowHeardOne]);
          expect(fromOldest).to.deep.equal([before!.id, later!.id]);
          expect(fromNow).to.deep.equal([later!.id]);
        } finally {
          await api.close();
          await close();
        }
      });

      it('refuses a missing start, a bad start and callbacks that are not functions, naming the option', async () => {
        const { repository, close } = await store.open();
        const api = new ExternalTaskApi({ repository });
        const onOutcome = (): void => undefined;
        const refusals: [string, Partial<Record<keyof ConsumeOutcomesOptions, unknown>>][] = [
          ['after', { onOutcome }],
          ['after', { after: undefined, onOutcome }],
          ['after', { after: '12', onOutcome }],
          ['after', { after: 'latest', onOutcome }],
          ['after', { after: -1, onOutcome }],
          ['onOutcome', { after: 'now' }],
          ['onError', { after: 'now', onOutcome, onError: 'x' }],
          ['onResync', { after: 'now', onOutcome, onResync: 1 }],
        ];
        try {
          for (const [argument, options] of refusals) {
            const error = await rejectionOf(
              api.consumeOutcomes(options as unknown as ConsumeOutcomesOptions),
            );
            expect(error, JSON.stringify(options)).to.be.instanceOf(BadRequestError);
            expect((error as BadRequestError).argument, JSON.stringify(options)).to.equal(argument);
          }
        } finally {
          await api.close();
          await close();
        }
      });

      it("the repository's subscribe refuses callbacks that are not functions, naming them", async () => {
        const { repository, close } = await store.open();
        try {
          await refusesBadSubscribers(repository);
        } finally {
          await close();
        }
      });
    });
  }

  it("the stub repository's subscribe refuses callbacks that are not functions, naming them", async () => {
    await refusesBadSubscribers(createStubRepository());
  });
});

/** Checks that `repository.subscribe` refuses each bad callback with a 400 naming it. */
async function refusesBadSubscribers(repository: ExternalTaskRepository): Promise<void> {
  const onChange = (): void => undefined;
  const refusals: [string, Record<string, unknown>][] = [
    ['onChange', {}],
    ['onChange', { onChange: 'x' }],
    ['onResync', { onChange, onResync: 'x' }],
    ['onHalt', { onChange, onHalt: {} }],
    ['after', { onChange, after: '3' }],
  ];
  for (const [argument, subscriber] of refusals) {
    const error = await rejectionOf(repository.subscribe(subscriber as unknown as ChangeSubscriber));
    expect(error, JSON.stringify(subscriber)).to.be.instanceOf(BadRequestError);
    expect((error as BadRequestError).argument, JSON.stringify(subscriber)).to.equal(argument);
  }
}
