import { expect } from 'chai';
import type { Clock, ManualClock } from '../../lib/clock/index.js';
import {
  ExternalTaskApi,
  type ExternalTaskRepository,
  type NamedConsumeOutcomesOptions,
  type NamedOutcomeConsumer,
} from '../../lib/index.js';
import type { ConsumerLeases } from '../../lib/repository/index.js';
import { waitUntil } from '../../lib/testing/contract/waiting.js';
import { quietLogger } from '../postgres/support.js';
import type { DurableStore } from './durable-stores.js';
import { identity, newTask } from './fixtures.js';

/** How a test controls one process's way to the store. */
export interface StoreLink {
  /** The repository the process uses. */
  readonly repository: ExternalTaskRepository;
  /** Lease calls under way. */
  readonly inFlight: () => number;
  /** The positions of the renewals and releases the store accepted, in order. */
  readonly storedPositions: number[];
  /** While true, every lease call rejects (a cut to the store); the feed goes on. */
  partitioned: boolean;
  /** The process dies: every lease call rejects from now on, and its feed hands nothing more over. */
  kill(): void;
}

/** `repository` as one process sees it, with the controls of a {@link StoreLink}. */
export function storeLink(repository: ExternalTaskRepository): StoreLink {
  let killed = false;
  let inFlight = 0;
  const storedPositions: number[] = [];
  const leases = repository.consumerLeases!;
  const link = {} as { -readonly [K in keyof StoreLink]: StoreLink[K] };
  const call = async <T>(operation: () => Promise<T>): Promise<T> => {
    inFlight++;
    try {
      if (killed || link.partitioned) throw new Error('the store is out of reach');
      return await operation();
    } finally {
      inFlight--;
    }
  };
  const consumerLeases: ConsumerLeases = {
    acquire: (request) => call(() => leases.acquire(request)),
    renew: (request) =>
      call(async () => {
        const answer = await leases.renew(request);
        if (answer.status === 'ok' && request.position !== undefined) storedPositions.push(request.position);
        return answer;
      }),
    release: (request) =>
      call(async () => {
        const answer = await leases.release(request);
        if (answer.status === 'ok' && request.position !== undefined) storedPositions.push(request.position);
        return answer;
      }),
  };
  Object.assign(link, {
    repository: new Proxy(repository, {
      get(target, key) {
        if (key === 'consumerLeases') return consumerLeases;
        if (key === 'subscribe') {
          return (subscriber: Parameters<ExternalTaskRepository['subscribe']>[0]) =>
            target.subscribe({
              ...subscriber,
              onChange: (change) => (killed ? undefined : subscriber.onChange(change)),
            });
        }
        const value = Reflect.get(target, key, target) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    }),
    inFlight: () => inFlight,
    storedPositions,
    partitioned: false,
    kill: () => void (killed = true),
  });
  return link;
}

/** One replica of an engine: its process's link to the store, its api, and what its named consumer heard. */
export interface Replica {
  readonly link: StoreLink;
  readonly api: ExternalTaskApi;
  readonly consumer: NamedOutcomeConsumer;
  /** The ids of the tasks whose outcomes it handled, in order. */
  readonly heard: string[];
  /** The positions of those outcomes. */
  readonly positions: number[];
  /** Ends the process: closes the api (which releases the lease, if it still can) and the store. */
  close(): Promise<void>;
}

/**
 * A cluster of processes on one store, sharing a manual clock (the store's "now" and the apis' timers,
 * unless a replica gets a clock of its own), and a worker process that finishes tasks.
 */
export class Cluster {
  private readonly closes: (() => Promise<void>)[] = [];
  private worker: ExternalTaskApi | undefined;

  constructor(
    private readonly store: DurableStore,
    readonly clock: ManualClock,
  ) {}

  /** Starts a replica consuming outcomes as the named consumer `engine` (options may say otherwise). */
  async replica(
    options: Partial<NamedConsumeOutcomesOptions> = {},
    clock: Clock = this.clock,
  ): Promise<Replica> {
    const opened = await this.store.open(this.clock);
    const link = storeLink(opened.repository);
    const api = new ExternalTaskApi({ repository: link.repository, clock, logger: quietLogger() });
    const heard: string[] = [];
    const positions: number[] = [];
    const close = async (): Promise<void> => {
      await api.close();
      await opened.close();
    };
    this.closes.push(close);
    const consumer = await api.consumeOutcomes({
      consumer: 'engine',
      leaseDuration: 30_000,
      commitInterval: 1000,
      onOutcome: ({ task, position }) => {
        heard.push(task.id);
        positions.push(position);
      },
      ...options,
    });
    return { link, api, consumer, heard, positions, close };
  }

  /** Creates `count` tasks and has a worker process finish them, in order; answers their ids. */
  async finishTasks(count: number): Promise<string[]> {
    if (!this.worker) {
      const opened = await this.store.open(this.clock);
      const worker = new ExternalTaskApi({ repository: opened.repository, clock: this.clock });
      this.worker = worker;
      this.closes.push(async () => {
        await worker.close();
        await opened.close();
      });
    }
    const tasks = await this.worker.engine.createMany(Array.from({ length: count }, () => newTask()));
    const locked = await this.worker.fetchAndLockExternalTasks(identity, 'w', 'invoice', count, 0, 600_000);
    expect(locked).to.have.length(count);
    for (const task of tasks) await this.worker.finishExternalTask(identity, 'w', task.id, {});
    return tasks.map((task) => task.id);
  }

  /** Waits until no replica has a lease call under way. */
  async settled(replicas: readonly Replica[]): Promise<void> {
    await waitUntil(
      () => replicas.every((replica) => replica.link.inFlight() === 0),
      () => 'the lease calls under way',
    );
  }

  /**
   * Moves the clock a second at a time until `done()` holds, letting the lease calls each step starts
   * finish; fails after `limit` ms. Answers how long it moved the clock.
   */
  async advanceUntil(done: () => boolean, replicas: readonly Replica[], limit = 120_000): Promise<number> {
    let moved = 0;
    while (!done()) {
      if (moved >= limit) expect.fail(`nothing after ${limit} ms of the clock`);
      await this.clock.advanceAsync(1000);
      moved += 1000;
      await this.settled(replicas);
    }
    return moved;
  }

  /** Moves the clock by `ms`, a second at a time, as {@link advanceUntil} does. */
  async advance(ms: number, replicas: readonly Replica[]): Promise<void> {
    const until = this.clock.now() + ms;
    await this.advanceUntil(() => this.clock.now() >= until, replicas, ms + 1000);
  }

  /** Ends every process, the latest first. */
  async close(): Promise<void> {
    for (const close of this.closes.splice(0).reverse()) await close();
  }
}

/** Waits until `replica` heard `count` outcomes. */
export function hearing(replica: Replica, count: number): Promise<void> {
  return waitUntil(
    () => replica.heard.length >= count,
    () => `${count} outcomes (heard ${replica.heard.length})`,
  );
}
