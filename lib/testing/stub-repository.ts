import { randomUUID } from 'node:crypto';
import sinon from 'sinon';
import type { ExternalTask, NewExternalTask } from '../model/index.js';
import type {
  AvailabilityHint,
  AvailabilityListener,
  ChangeFeed,
  ChangeSubscriber,
  ExternalTaskChange,
  ExternalTaskRepository,
} from '../repository/index.js';

/** A change to simulate: any {@link ExternalTaskChange}; the stub gives it the next position. */
export type SimulatedChange = ExternalTaskChange extends infer C
  ? C extends ExternalTaskChange
    ? Omit<C, 'position'>
    : never
  : never;

/**
 * A repository for engine tests: every method of {@link ExternalTaskRepository} is a sinon stub with a
 * harmless default (override any with `.resolves(…)`, assert with `.calledWith(…)`), plus ways to play
 * the store's part: {@link simulateChange} delivers a change to every subscription (so `task:*` events
 * fire and `waitForOutcome` resolves), {@link simulateAvailability} wakes long polls.
 */
export type StubRepository = {
  [K in keyof ExternalTaskRepository]: sinon.SinonStub<
    Parameters<ExternalTaskRepository[K]>,
    ReturnType<ExternalTaskRepository[K]>
  >;
} & {
  /** Delivers `change` at the next position to every open subscription; resolves once all handled it. */
  simulateChange(change: SimulatedChange): Promise<void>;
  /** Sends `hints` to every open availability watch. */
  simulateAvailability(hints: readonly AvailabilityHint[]): void;
};

/**
 * A typed stub repository. Defaults: `create`/`createMany` answer pending records built from their input
 * (a fresh UUID, `createdAt` now, no lock); `getById` → `undefined`; `claim` → `[]`; `extendLock`,
 * `complete`, `unlock`, `setRetries` → `{ status: 'not-found' }`; `cancel` → 0; `query` → an empty page;
 * `countByTopic` → `[]`; `msUntilNextAvailable` → `undefined`; `subscribe` and `watchAvailability`
 * register the subscriber for the simulate methods; `currentPosition` → the last simulated position.
 *
 * @example
 * ```ts
 * const repository = createStubRepository();
 * const api = new ExternalTaskApi({ repository });
 * const task = await repository.create({ topic: 't', correlationId: 'c', processInstanceId: 'p', flowNodeInstanceId: 'f' });
 * repository.getById.resolves(task);
 * const outcome = api.waitForOutcome(task.id);
 * await repository.simulateChange({ type: 'finished', task: { ...task, state: 'finished' }, result: 42 });
 * (await outcome).state; // 'finished'
 * ```
 */
export function createStubRepository(): StubRepository {
  const subscribers = new Set<ChangeSubscriber>();
  const watchers = new Set<AvailabilityListener>();
  let position = 0;
  const stub = <K extends keyof ExternalTaskRepository>() =>
    sinon.stub<Parameters<ExternalTaskRepository[K]>, ReturnType<ExternalTaskRepository[K]>>();
  const closable = <T>(set: Set<T>, member: T) => ({
    close: () => {
      set.delete(member);
      return Promise.resolve();
    },
  });
  const subscribe = stub<'subscribe'>().callsFake((subscriber) => {
    subscribers.add(subscriber);
    const feed: ChangeFeed = { position, ...closable(subscribers, subscriber) };
    return Promise.resolve(feed);
  });
  return {
    create: stub<'create'>().callsFake((input) => Promise.resolve(pendingRecord(input))),
    createMany: stub<'createMany'>().callsFake((inputs) => Promise.resolve(inputs.map(pendingRecord))),
    getById: stub<'getById'>().resolves(undefined),
    claim: stub<'claim'>().resolves([]),
    extendLock: stub<'extendLock'>().resolves({ status: 'not-found' }),
    complete: stub<'complete'>().resolves({ status: 'not-found' }),
    unlock: stub<'unlock'>().resolves({ status: 'not-found' }),
    cancel: stub<'cancel'>().resolves(0),
    setRetries: stub<'setRetries'>().resolves({ status: 'not-found' }),
    query: stub<'query'>().resolves({ tasks: [], total: 0 }),
    countByTopic: stub<'countByTopic'>().resolves([]),
    msUntilNextAvailable: stub<'msUntilNextAvailable'>().resolves(undefined),
    watchAvailability: stub<'watchAvailability'>().callsFake((listener) => {
      watchers.add(listener);
      return Promise.resolve(closable(watchers, listener));
    }),
    subscribe,
    currentPosition: stub<'currentPosition'>().callsFake(() => Promise.resolve(position)),
    async simulateChange(change) {
      const positioned = { ...change, position: ++position } as ExternalTaskChange;
      for (const subscriber of [...subscribers]) await subscriber.onChange(positioned);
    },
    simulateAvailability(hints) {
      for (const listener of [...watchers]) listener(hints);
    },
  };
}

/** The record a store would answer for a new task (checks left to the real stores). */
function pendingRecord(input: NewExternalTask): ExternalTask {
  return {
    id: randomUUID(),
    topic: input.topic,
    flowNodeInstanceId: input.flowNodeInstanceId,
    correlationId: input.correlationId,
    processInstanceId: input.processInstanceId,
    ...(input.processModelId !== undefined && { processModelId: input.processModelId }),
    ...(input.tenantId !== undefined && { tenantId: input.tenantId }),
    ...(input.identity !== undefined && { identity: input.identity }),
    payload: (input.payload ?? null) as ExternalTask['payload'],
    priority: input.priority ?? 0,
    state: 'pending',
    createdAt: new Date(),
    ...(input.retries !== undefined && { retries: input.retries }),
    attempts: 0,
  };
}
