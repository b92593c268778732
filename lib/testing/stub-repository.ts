import { randomUUID } from 'node:crypto';
import sinon from 'sinon';
import type { ExternalTask, NewExternalTask } from '../model/index.js';
import type {
  AvailabilityHint,
  AvailabilityListener,
  ChangeFeed,
  ConsumerLeases,
  ChangePosition,
  ChangeSubscriber,
  ExternalTaskChange,
  ExternalTaskRepository,
} from '../repository/index.js';
import type { UnpositionedChange } from '../repository/external-task-repository.js';
import { subscriptionStart, validateChangeSubscriber } from '../repository/repository-arguments.js';

/** A change to simulate: any {@link ExternalTaskChange} without its position; the stub gives it the next one. */
export type SimulatedChange = UnpositionedChange;

/**
 * The methods of the repository contract (every member but the optional group `consumerLeases`).
 * @inline
 */
type RepositoryMethod = Exclude<keyof ExternalTaskRepository, 'consumerLeases'>;

/**
 * A repository for engine tests: every method of {@link ExternalTaskRepository} (and of its
 * `consumerLeases`) is a sinon stub with a harmless default (override any with `.resolves(…)`, assert
 * with `.calledWith(…)`), plus ways to play the store's part: `simulateChange` delivers a change to every
 * subscription (so `task:*` events fire and `waitForOutcome` resolves), `simulateAvailability` wakes
 * long polls. Like a store, it keeps every simulated change, so a subscription `after` a position gets the
 * changes after it first.
 */
export type StubRepository = {
  [K in RepositoryMethod]: sinon.SinonStub<
    Parameters<ExternalTaskRepository[K]>,
    ReturnType<ExternalTaskRepository[K]>
  >;
} & {
  readonly consumerLeases: {
    [K in keyof ConsumerLeases]: sinon.SinonStub<
      Parameters<ConsumerLeases[K]>,
      ReturnType<ConsumerLeases[K]>
    >;
  };
} & {
  /**
   * Keeps `change` at the next position and delivers it to every open subscription, after what each
   * has still to get; resolves once all handled it (rejects with a subscriber's failure).
   */
  simulateChange(change: SimulatedChange): Promise<void>;
  /** Sends `hints` to every open availability watch. */
  simulateAvailability(hints: readonly AvailabilityHint[]): void;
};

/**
 * A typed stub repository. Defaults: `create`/`createMany` answer pending records built from their input
 * (a fresh UUID, `createdAt` now, no lock); `getById` → `undefined`; `claim` → `[]`; `extendLock`,
 * `complete`, `unlock`, `setRetries`, `forceUnlock`, `setPriority` → `{ status: 'not-found' }`; `cancel`
 * and `deleteFinalTasks` → 0; `query` → an empty page;
 * `countByTopic` → `[]`; `msUntilNextAvailable` → `undefined`; `subscribe` and `watchAvailability`
 * register the subscriber for the simulate methods (`subscribe({ after })` first replays the simulated
 * changes after `after`; the feed's `position` is that of the last change delivered to it);
 * `currentPosition` → the last simulated position; `consumerLeases.acquire` → acquired, no position
 * stored (a named consumer starts at the first simulated change), `renew` and `release` → `ok`.
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
  const feeds = new Set<StubFeed>();
  const watchers = new Set<AvailabilityListener>();
  /** Every simulated change, in position order: position `n` is at index `n - 1`. */
  const changes: ExternalTaskChange[] = [];
  const stub = <K extends RepositoryMethod>() =>
    sinon.stub<Parameters<ExternalTaskRepository[K]>, ReturnType<ExternalTaskRepository[K]>>();
  const leaseStub = <K extends keyof ConsumerLeases>() =>
    sinon.stub<Parameters<ConsumerLeases[K]>, ReturnType<ConsumerLeases[K]>>();
  const subscribe = stub<'subscribe'>().callsFake((subscriber) => {
    let start: ChangePosition;
    try {
      validateChangeSubscriber(subscriber);
      start = subscriptionStart(subscriber.after, changes.length);
    } catch (refusal) {
      return Promise.reject(refusal); // as a store's does: a rejection, not a throw
    }
    const feed = new StubFeed(subscriber, start, (closed) => feeds.delete(closed));
    feeds.add(feed);
    // A failure while replaying is dropped, as a store would log it and go on; a live one rejects simulateChange.
    for (const change of changes.filter((kept) => kept.position > feed.position)) {
      void feed.deliver(change).catch(() => undefined);
    }
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
    forceUnlock: stub<'forceUnlock'>().resolves({ status: 'not-found' }),
    setPriority: stub<'setPriority'>().resolves({ status: 'not-found' }),
    deleteFinalTasks: stub<'deleteFinalTasks'>().resolves(0),
    query: stub<'query'>().resolves({ tasks: [], total: 0 }),
    countByTopic: stub<'countByTopic'>().resolves([]),
    msUntilNextAvailable: stub<'msUntilNextAvailable'>().resolves(undefined),
    watchAvailability: stub<'watchAvailability'>().callsFake((listener) => {
      watchers.add(listener);
      const watch = {
        close: () => {
          watchers.delete(listener);
          return Promise.resolve();
        },
      };
      return Promise.resolve(watch);
    }),
    subscribe,
    currentPosition: stub<'currentPosition'>().callsFake(() => Promise.resolve(changes.length)),
    consumerLeases: {
      acquire: leaseStub<'acquire'>().resolves({ status: 'acquired', position: undefined }),
      renew: leaseStub<'renew'>().resolves({ status: 'ok' }),
      release: leaseStub<'release'>().resolves({ status: 'ok' }),
    },
    async simulateChange(change) {
      const positioned = { ...change, position: changes.length + 1 } as ExternalTaskChange;
      changes.push(positioned);
      await Promise.all([...feeds].map((feed) => feed.deliver(positioned)));
    },
    simulateAvailability(hints) {
      for (const listener of [...watchers]) listener(hints);
    },
  };
}

/**
 * One subscription to the stub's feed: delivers its changes one after another, in position order, each
 * once its subscriber has handled the one before; `position` is that of the last change delivered.
 */
class StubFeed implements ChangeFeed {
  private closed = false;
  /** The end of the deliveries queued so far (never rejects, so one failure does not stop the rest). */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly subscriber: ChangeSubscriber,
    private delivered: ChangePosition,
    private readonly detach: (feed: StubFeed) => void,
  ) {}

  get position(): ChangePosition {
    return this.delivered;
  }

  /** Queues `change`; resolves once the subscriber handled it (at once if closed or already had). */
  deliver(change: ExternalTaskChange): Promise<void> {
    const delivery = this.queue.then(async () => {
      if (this.closed || change.position <= this.delivered) return;
      this.delivered = change.position;
      await this.subscriber.onChange(change);
    });
    this.queue = delivery.catch(() => undefined);
    return delivery;
  }

  /** Stops delivery: nothing more is handed to the subscriber. Resolves at once (it may be called from `onChange`). */
  close(): Promise<void> {
    this.closed = true;
    this.detach(this);
    return Promise.resolve();
  }
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
    ...(input.idempotencyKey !== undefined && { idempotencyKey: input.idempotencyKey }),
  };
}
