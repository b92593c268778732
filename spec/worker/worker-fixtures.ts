import { getEventListeners } from 'node:events';
import sinon from 'sinon';
import {
  ExternalTaskApi,
  InMemoryExternalTaskRepository,
  type ExternalTask,
  type ExternalTaskRepository,
  type ExternalTaskService,
  type FetchAndLockOptions,
  type Logger,
  type NewExternalTask,
} from '../../lib/index.js';
import {
  ExternalTaskWorker,
  type ExternalTaskWorkerEventName,
  type ExternalTaskWorkerEvents,
  type ExternalTaskWorkerOptions,
} from '../../lib/worker/index.js';
import {
  createTasks as supportCreateTasks,
  deferred,
  identity,
  newTask as supportNewTask,
  startTime,
  taskRecord as supportTaskRecord,
  useFakeTime,
} from '../support/fixtures.js';

export { deferred, identity, startTime };

/**
 * Fakes Date and the timers. Microtasks (`queueMicrotask`, `process.nextTick`) stay real: they are not
 * time (and the worker works either way; see the test with sinon's default fakes in poll-loop.spec.ts).
 */
export function useFakeTimers(): sinon.SinonFakeTimers {
  return useFakeTime({ intervals: true });
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

/** A valid new task for `topic` (the workers' default topic unless told), with `payload` if given. */
export function newTask(topic = 'send-invoice', payload?: unknown): NewExternalTask {
  return supportNewTask(topic, payload === undefined ? {} : { payload });
}

/** Creates `count` tasks on `topic` (the workers' default topic unless told); answers their ids in order. */
export function createTasks(
  repository: ExternalTaskRepository,
  count: number,
  topic = 'send-invoice',
): Promise<string[]> {
  return supportCreateTasks(repository, count, topic);
}

/** A task record for stubbed services. */
export function taskRecord(id: string, topic = 'send-invoice'): ExternalTask {
  return supportTaskRecord({ id, topic, payload: { id }, attempts: 1 });
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

/** A fetch the test answers when it wants to. */
export interface OpenFetch {
  readonly options: FetchAndLockOptions;
  settled: boolean;
  answer(tasks: ExternalTask[]): void;
}

/** A stub service whose fetches stay open until the test answers them; answers the stub and the fetches. */
export function answeredByHand(): { service: ReturnType<typeof stubService>; fetches: OpenFetch[] } {
  const service = stubService();
  const fetches: OpenFetch[] = [];
  service.fetchAndLock.callsFake((_identity, options: FetchAndLockOptions) => {
    const answer = deferred<ExternalTask[]>();
    const open: OpenFetch = {
      options,
      settled: false,
      answer: (tasks) => {
        open.settled = true;
        answer.resolve(tasks);
      },
    };
    options.signal?.addEventListener('abort', () => open.answer([]), { once: true });
    fetches.push(open);
    return answer.promise;
  });
  return { service, fetches };
}

/** The fetches not answered yet. */
export function inFlight(fetches: readonly OpenFetch[]): OpenFetch[] {
  return fetches.filter((fetch) => !fetch.settled);
}

/** `count` task records with ids `${prefix}0`, `${prefix}1`, … */
export function taskRecords(prefix: string, count: number): ExternalTask[] {
  return Array.from({ length: count }, (_, i) => taskRecord(`${prefix}${i}`));
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

/** The shared test bed of a worker `describe` block; its properties are filled in `beforeEach`. */
export interface WorkerClockTestbed {
  /** The fake clock, installed for each test. */
  clock: sinon.SinonFakeTimers;
  /** The workers to stop after each test; {@link createWorker} adds to it. */
  workers: ExternalTaskWorker[];
  /** A worker on `service` with {@link testOptions}, stopped after the test; not started. */
  createWorker(
    overrides: Partial<ExternalTaskWorkerOptions>,
    service: ConstructorParameters<typeof ExternalTaskWorker>[0],
  ): ExternalTaskWorker;
  /** {@link createWorker}, then starts the worker without waiting. */
  startWorker(
    overrides: Partial<ExternalTaskWorkerOptions>,
    service: ConstructorParameters<typeof ExternalTaskWorker>[0],
  ): ExternalTaskWorker;
}

/** A {@link WorkerClockTestbed} with the real in-process stack; workers run on `api` unless told. */
export interface WorkerTestbed extends WorkerClockTestbed {
  repository: InMemoryExternalTaskRepository;
  api: ExternalTaskApi;
  createWorker(
    overrides?: Partial<ExternalTaskWorkerOptions>,
    service?: ConstructorParameters<typeof ExternalTaskWorker>[0],
  ): ExternalTaskWorker;
  startWorker(
    overrides?: Partial<ExternalTaskWorkerOptions>,
    service?: ConstructorParameters<typeof ExternalTaskWorker>[0],
  ): ExternalTaskWorker;
}

/**
 * Sets up the shared test bed for the enclosing `describe` block. Before each test: fake timers, the
 * in-process stack (unless `stack: false`) and an empty list of workers. After each test: closes the api,
 * stops the workers (ticking the fake clock) and restores the clock.
 */
export function useWorkerTestbed(): WorkerTestbed;
export function useWorkerTestbed(options: { stack: false }): WorkerClockTestbed;
export function useWorkerTestbed({ stack = true }: { stack?: boolean } = {}): WorkerTestbed {
  const testbed: WorkerTestbed = {
    workers: [],
    createWorker(overrides = {}, service = testbed.api) {
      const worker = new ExternalTaskWorker(service, testOptions(overrides));
      testbed.workers.push(worker);
      return worker;
    },
    startWorker(overrides = {}, service = testbed.api) {
      const worker = testbed.createWorker(overrides, service);
      void worker.start();
      return worker;
    },
  } as Partial<WorkerTestbed> as WorkerTestbed;

  beforeEach(() => {
    testbed.clock = useFakeTimers();
    if (stack) Object.assign(testbed, createStack());
    testbed.workers = [];
  });

  afterEach(async () => {
    try {
      if (stack) await testbed.api.close();
      await stopAll(testbed.clock, testbed.workers);
    } finally {
      testbed.clock.restore();
    }
  });

  return testbed;
}
