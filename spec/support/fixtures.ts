import sinon from 'sinon';
import {
  ExternalTaskApi,
  InMemoryExternalTaskRepository,
  type ExternalTask,
  type ExternalTaskChange,
  type ExternalTaskRepository,
  type NewExternalTask,
} from '../../lib/index.js';
import type { ChangeFeed } from '../../lib/repository/index.js';
import { newTask as contractNewTask } from '../../lib/testing/contract/case-inputs.js';

export { rejectionOf } from '../../lib/testing/contract/expectations.js';

/** The identity the default access policy accepts. */
export const identity = { token: 'test-token' };

/** A fixed start time for fake clocks, so records are reproducible. */
export const startTime = Date.UTC(2026, 0, 1);

/**
 * Fakes Date and the timer functions only (promises and microtasks stay real). With `intervals`,
 * `setInterval` and `clearInterval` are faked too.
 */
export function useFakeTime({ intervals = false }: { intervals?: boolean } = {}): sinon.SinonFakeTimers {
  const intervalTimers = intervals ? (['setInterval', 'clearInterval'] as const) : [];
  return sinon.useFakeTimers({
    now: startTime,
    toFake: ['Date', 'setTimeout', 'clearTimeout', ...intervalTimers],
  });
}

let counter = 0;

/**
 * A valid task for `topic` with fresh engine ids (the contract suite's {@link contractNewTask}) and a
 * payload `{ n }` numbering the calls; `overrides` replace fields.
 */
export function newTask(topic = 'invoice', overrides: Partial<NewExternalTask> = {}): NewExternalTask {
  return contractNewTask({ topic, payload: { n: ++counter }, ...overrides });
}

/** Creates `count` tasks on `topic`, in order. */
export async function createTasks(
  repository: ExternalTaskRepository,
  count: number,
  topic = 'invoice',
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await repository.create(newTask(topic))).id);
  return ids;
}

/** The in-process stack on fake time, fresh for each test of the calling `describe`. */
export interface ApiTestbed {
  clock: sinon.SinonFakeTimers;
  repository: InMemoryExternalTaskRepository;
  api: ExternalTaskApi;
}

/**
 * Registers hooks that give each test a fake clock, a repository and an api (filled in before each test),
 * and that close the api and restore the clock after it.
 */
export function useApiTestbed(): ApiTestbed {
  const bed = {} as ApiTestbed;
  beforeEach(() => {
    bed.clock = useFakeTime();
    bed.repository = new InMemoryExternalTaskRepository();
    bed.api = new ExternalTaskApi({ repository: bed.repository });
  });
  afterEach(async () => {
    await bed.api.close();
    bed.clock.restore();
  });
  return bed;
}

/** A repository under test on fake time, recording every change it announces. */
export interface RepositoryTestbed {
  clock: sinon.SinonFakeTimers;
  repository: ExternalTaskRepository;
  /** The changes announced since the test began (a test may empty it). */
  changes: ExternalTaskChange[];
}

/**
 * Registers hooks that give each test of the calling `describe` fake time from `now` (installed before
 * the factory runs), a fresh store from `createRepository` and a record of its changes; and that stop
 * recording and restore the clock after it.
 */
export function useRepositoryTestbed(
  createRepository: () => ExternalTaskRepository | Promise<ExternalTaskRepository>,
  now: number,
): RepositoryTestbed {
  const bed = {} as RepositoryTestbed;
  let feed: ChangeFeed | undefined;
  beforeEach(async () => {
    bed.clock = sinon.useFakeTimers({ now, toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    bed.repository = await createRepository();
    bed.changes = [];
    feed = await bed.repository.subscribe({ onChange: (change) => void bed.changes.push(change) });
  });
  afterEach(async () => {
    await feed?.close();
    bed.clock.restore();
  });
  return bed;
}

/** A pending task record for stubbed stores and services, at {@link startTime}; `overrides` replace fields. */
export function taskRecord(overrides: Partial<ExternalTask> & { readonly id: string }): ExternalTask {
  return {
    topic: 'invoice',
    flowNodeInstanceId: `fni-${overrides.id}`,
    correlationId: `c-${overrides.id}`,
    processInstanceId: `pi-${overrides.id}`,
    payload: null,
    priority: 0,
    state: 'pending',
    createdAt: new Date(startTime),
    attempts: 0,
    ...overrides,
  };
}

/** A promise with its resolve function outside. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
