import { getEventListeners } from 'node:events';
import sinon from 'sinon';
import {
  ExternalTaskApi,
  InMemoryExternalTaskRepository,
  type ExternalTask,
  type ExternalTaskService,
  type FetchAndLockOptions,
  type Logger,
  type NewExternalTask,
} from '../../lib/index.js';
import type {
  ExternalTaskWorker,
  ExternalTaskWorkerEventName,
  ExternalTaskWorkerEvents,
  ExternalTaskWorkerOptions,
} from '../../lib/worker/index.js';

/** The identity the default access policy accepts. */
export const identity = { token: 't' };

/** A fixed start time, so fake-clock times read well in failures. */
export const startTime = Date.UTC(2026, 0, 1);

/**
 * Fakes Date and the timers. Microtasks (`queueMicrotask`, `process.nextTick`) stay real: they are not
 * time, and p-queue keeps its books with `queueMicrotask`.
 */
export function useFakeTimers(): sinon.SinonFakeTimers {
  return sinon.useFakeTimers({
    now: startTime,
    toFake: ['Date', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'],
  });
}

/** A logger that records instead of printing. */
export function silentLogger(): Logger & { error: sinon.SinonSpy; warn: sinon.SinonSpy } {
  return { error: sinon.spy(), warn: sinon.spy() };
}

/** The real in-process stack. */
export function createStack(): { repository: InMemoryExternalTaskRepository; api: ExternalTaskApi } {
  const repository = new InMemoryExternalTaskRepository({ logger: silentLogger() });
  const api = new ExternalTaskApi({ repository, logger: silentLogger() });
  return { repository, api };
}

let counter = 0;

/** A valid new task for `topic`. */
export function newTask(topic = 'send-invoice', payload: unknown = { n: counter + 1 }): NewExternalTask {
  counter++;
  return {
    topic,
    correlationId: `correlation-${counter}`,
    processInstanceId: `process-${counter}`,
    flowNodeInstanceId: `flow-node-${counter}`,
    payload,
  };
}

/** Creates `count` tasks on `topic`; answers their ids in order. */
export async function createTasks(
  repository: InMemoryExternalTaskRepository,
  count: number,
  topic = 'send-invoice',
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await repository.create(newTask(topic))).id);
  return ids;
}

/** A task record for stubbed services. */
export function taskRecord(id: string, topic = 'send-invoice'): ExternalTask {
  return {
    id,
    topic,
    flowNodeInstanceId: `fni-${id}`,
    correlationId: `c-${id}`,
    processInstanceId: `pi-${id}`,
    payload: { id },
    priority: 0,
    state: 'pending',
    createdAt: new Date(startTime),
  };
}

/** Waits `ms` on the (fake) global timers: what a slow handler does. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Follows a promise without awaiting it, so a test can ask whether it has settled yet. */
export function track<T>(promise: Promise<T>): { settled: boolean; value: T | undefined; error: unknown } {
  const state: { settled: boolean; value: T | undefined; error: unknown } = {
    settled: false,
    value: undefined,
    error: undefined,
  };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

/** A promise with its resolve function outside. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * A sinon stub of every {@link ExternalTaskService} method. `fetchAndLock` behaves like a long poll with
 * nothing to hand out: it answers `[]` when its time runs out or its signal aborts. The rest resolve.
 */
export function stubService(): sinon.SinonStubbedInstance<ExternalTaskService> & ExternalTaskService {
  return {
    fetchAndLockExternalTasks: sinon.stub().resolves([]),
    fetchAndLock: sinon
      .stub<[unknown, FetchAndLockOptions], Promise<ExternalTask[]>>()
      .callsFake(emptyLongPoll),
    extendLock: sinon.stub().resolves(),
    finishExternalTask: sinon.stub().resolves(),
    handleBpmnError: sinon.stub().resolves(),
    handleServiceError: sinon.stub().resolves(),
    unlock: sinon.stub().resolves(),
  } as unknown as sinon.SinonStubbedInstance<ExternalTaskService> & ExternalTaskService;
}

/** A long poll that finds nothing: `[]` after `longPollingTimeout`, or at once when the signal aborts. */
export function emptyLongPoll(_identity: unknown, options: FetchAndLockOptions): Promise<ExternalTask[]> {
  return new Promise((resolve) => {
    const { signal } = options;
    const end = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', end);
      resolve([]);
    };
    const timer = setTimeout(end, options.longPollingTimeout ?? 0);
    signal?.addEventListener('abort', end, { once: true });
    if (signal?.aborted) end();
  });
}

/** Abort listeners still registered on `signal`. */
export function abortListeners(signal: AbortSignal): number {
  return getEventListeners(signal, 'abort').length;
}

/** Worker options for tests: a silent logger and short, round durations. */
export function testOptions(overrides: Partial<ExternalTaskWorkerOptions> = {}): ExternalTaskWorkerOptions {
  return {
    topic: 'send-invoice',
    identity,
    handler: () => 'done',
    lockDuration: 10_000,
    longPollingTimeout: 30_000,
    stopGracePeriod: 5_000,
    logger: silentLogger(),
    ...overrides,
  };
}

/** Collects the payloads of one event of `worker`, in order. */
export function recordEvents<E extends ExternalTaskWorkerEventName>(
  worker: ExternalTaskWorker,
  event: E,
): Parameters<ExternalTaskWorkerEvents[E]>[0][] {
  const seen: Parameters<ExternalTaskWorkerEvents[E]>[0][] = [];
  const listener = (payload: Parameters<ExternalTaskWorkerEvents[E]>[0]): void => void seen.push(payload);
  worker.events.on(event, listener);
  return seen;
}

/** Ticks the fake clock in `step`s until `promise` settles (at most `limit` ms); answers its value. */
export async function settle<T>(
  clock: sinon.SinonFakeTimers,
  promise: Promise<T>,
  step = 1000,
  limit = 10 * 60_000,
): Promise<T> {
  const state = track(promise);
  for (let waited = 0; !state.settled && waited <= limit; waited += step) await clock.tickAsync(step);
  if (!state.settled) throw new Error(`The promise did not settle within ${limit} ms of fake time.`);
  return promise;
}

/** Stops every worker, ticking the fake clock so grace periods can run out. */
export async function stopAll(
  clock: sinon.SinonFakeTimers,
  workers: readonly ExternalTaskWorker[],
): Promise<void> {
  await settle(clock, Promise.all(workers.map((worker) => worker.stop())));
}
