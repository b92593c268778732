import { expect } from 'chai';
import { ManualClock } from '../../clock/index.js';
import { BadRequestError } from '../../errors/index.js';
import type { ExternalTask, JsonValue, NewExternalTask } from '../../model/index.js';
import type {
  AvailabilityHint,
  AvailabilityWatch,
  ChangeFeed,
  ChangeFeedResync,
  ChangePosition,
  ConditionalWriteResult,
  ExternalTaskChange,
  ExternalTaskChangeType,
  ExternalTaskRepository,
  RetryRequest,
  SetRetriesResult,
  TaskScope,
  TopicClaim,
  TopicTaskCounts,
  UnpositionedChange,
} from '../../repository/external-task-repository.js';
import { emptyTopicCounts } from '../../repository/topic-counts.js';
import type { MakeRepositoryTestbed, RepositoryContractTestbed } from './testbed.js';

/** 2030-01-01T00:00:00.000Z: what the store's clock shows when every case starts. */
export const START = Date.UTC(2030, 0, 1);
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
export const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
export const TOPIC = 'send-invoice';
export const OTHER_TOPIC = 'archive-invoice';
/** The lock duration of a claim that names none. */
export const LOCK = 1000;
export const ONE_MIB = 1024 * 1024;

/**
 * How long (in real ms) the suite waits for an asynchronous store to deliver what it has already
 * committed (changes, hints) before it fails the case. Only a bound on waiting: no case sleeps.
 */
const DELIVERY_TIMEOUT_MS = 5000;

let counter = 0;

/** A valid new task of {@link TOPIC} with fresh engine ids; `overrides` replace fields. */
export function newTask(overrides: Partial<NewExternalTask> = {}): NewExternalTask {
  counter++;
  return {
    topic: TOPIC,
    flowNodeInstanceId: `fni-${counter}`,
    correlationId: `corr-${counter}`,
    processInstanceId: `pi-${counter}`,
    ...overrides,
  };
}

export function ids(tasks: readonly { readonly id: string }[]): string[] {
  return tasks.map((task) => task.id);
}

/** The task of a result that carries one; fails the test otherwise. */
export function taskOf(result: ConditionalWriteResult | SetRetriesResult): ExternalTask {
  if (result.status === 'not-found') return expect.fail('expected the result to carry a task');
  return result.task;
}

/** The error `promise` rejects with; fails the test if it fulfils. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return expect.fail('expected the promise to reject');
}

/** Expects `promise` to reject with a {@link BadRequestError} naming `argument`. */
export async function expectBadRequest(promise: Promise<unknown>, argument: string): Promise<void> {
  const error = await rejectionOf(promise);
  expect(error).to.be.instanceOf(BadRequestError);
  expect(error).to.include({ status: 400, code: 'BAD_REQUEST', argument });
}

/**
 * Runs a write on a record handed out. Records may be frozen (then the write throws a TypeError in
 * strict mode) or detached copies; either way the store must not change.
 */
export function tryToChange(write: () => void): void {
  try {
    write();
  } catch (error) {
    expect(error).to.be.instanceOf(TypeError);
  }
}

/** A small deterministic pseudo-random generator (mulberry32), so that failures reproduce. */
export function seededRandom(seed: number): (maxExclusive: number) => number {
  let state = seed >>> 0;
  return (maxExclusive) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const unit = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return Math.floor(unit * maxExclusive);
  };
}

export function cyclicObject(): Record<string, unknown> {
  const value: Record<string, unknown> = { name: 'loop' };
  value.self = value;
  return value;
}

export type Counts = Omit<TopicTaskCounts, 'topic'>;

const { topic: _unnamed, ...noCounts } = emptyTopicCounts('');
/** Every count 0: a topic's counts without its name, to spread into the counts a case expects. */
export const zeroCounts: Counts = Object.freeze(noCounts);

/** The counts of some tasks (e.g. one topic's) by brute force over their records at `now`. */
export function countRecords(tasks: readonly ExternalTask[], now: number): Counts {
  const counts = { ...zeroCounts };
  for (const task of tasks) {
    switch (task.state) {
      case 'pending':
        if (task.lockExpirationTime !== undefined && task.lockExpirationTime.getTime() > now) counts.locked++;
        else if (task.retryAt !== undefined && task.retryAt.getTime() > now) counts.retrying++;
        else counts.available++;
        break;
      case 'failed':
        counts.failed++;
        if (task.error?.type === 'bpmn') counts.bpmnErrors++;
        else counts.serviceErrors++;
        if (task.incident === true) counts.incidents++;
        break;
      case 'finished':
        counts.finished++;
        break;
      case 'cancelled':
        counts.cancelled++;
        break;
    }
  }
  return counts;
}

/** What {@link ExternalTaskRepository.msUntilNextAvailable} must answer for these records at `now`. */
export function msUntilNextAvailableOf(tasks: readonly ExternalTask[], now: number): number | undefined {
  let earliest: number | undefined;
  for (const task of tasks) {
    if (task.state !== 'pending') continue;
    const at = Math.max(task.lockExpirationTime?.getTime() ?? now, task.retryAt?.getTime() ?? now);
    if (earliest === undefined || at < earliest) earliest = at;
  }
  return earliest === undefined ? undefined : Math.max(0, earliest - now);
}

/** A change without its position, for comparing what happened regardless of where the feed put it. */
export function withoutPosition(change: ExternalTaskChange): UnpositionedChange {
  const { position: _position, ...rest } = change;
  return rest;
}

/** Waits, a turn of the event loop at a time, until `done()` holds; fails saying what it waited for. */
export async function waitUntil(done: () => boolean, waitingFor: () => string): Promise<void> {
  const deadline = performance.now() + DELIVERY_TIMEOUT_MS;
  while (!done()) {
    if (performance.now() > deadline) {
      expect.fail(`gave up after ${DELIVERY_TIMEOUT_MS} ms waiting for ${waitingFor()}`);
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Options of {@link ChangeRecorder.subscribe}. */
export interface RecorderOptions {
  /** Resume after this position (see {@link ChangeSubscriber.after}). */
  readonly after?: ChangePosition;
  /** Runs on each change after it was recorded, before the recorder counts it as handled. */
  readonly onChange?: (change: ExternalTaskChange) => void | Promise<void>;
  readonly onResync?: (resync: ChangeFeedResync) => void | Promise<void>;
}

/** A subscriber of a store's change feed that keeps every change it receives, in order. */
export class ChangeRecorder {
  /** Every change received, in the order received. */
  readonly changes: ExternalTaskChange[] = [];
  /** Every resynchronisation the feed told about. */
  readonly resyncs: ChangeFeedResync[] = [];
  private handled: ChangePosition | undefined;
  private feed: ChangeFeed | undefined;

  private constructor(private readonly repository: ExternalTaskRepository) {}

  static async subscribe(
    repository: ExternalTaskRepository,
    options: RecorderOptions = {},
  ): Promise<ChangeRecorder> {
    const recorder = new ChangeRecorder(repository);
    recorder.handled = options.after;
    recorder.feed = await repository.subscribe({
      ...(options.after !== undefined && { after: options.after }),
      onChange: (change) => {
        recorder.changes.push(change);
        const handled = (): void => {
          recorder.handled = change.position;
        };
        // A subscriber that answers synchronously is handled synchronously: the store may deliver the next
        // change at once, as it would to any synchronous subscriber.
        let answer: void | Promise<void>;
        try {
          answer = options.onChange?.(change);
        } catch (error) {
          handled();
          throw error;
        }
        if (!answer) return handled();
        return answer.then(handled, (error: unknown) => {
          handled();
          throw error;
        });
      },
      onResync: (resync) => {
        recorder.resyncs.push(resync);
        return options.onResync?.(resync);
      },
    });
    // Without `after`, the feed starts where the store was when the subscription became live.
    recorder.handled ??= recorder.feed.position;
    return recorder;
  }

  /** The position of the last change handled (or the feed's start position, before the first). */
  get position(): ChangePosition {
    return this.handled ?? 0;
  }

  /** The open subscription. */
  get subscription(): ChangeFeed {
    return this.feed ?? expect.fail('the recorder has not subscribed');
  }

  /** Waits until every change the store has made so far has been handled. */
  async settled(): Promise<void> {
    const target = await this.repository.currentPosition();
    await waitUntil(
      () => this.position >= target,
      () => `the change feed to deliver up to position ${target} (delivered up to ${this.position})`,
    );
  }

  async close(): Promise<void> {
    await this.feed?.close();
  }
}

/** An availability watch that keeps every batch of hints it receives, in order. */
export class HintRecorder {
  readonly batches: (readonly AvailabilityHint[])[] = [];
  private watch: AvailabilityWatch | undefined;

  static async watch(repository: ExternalTaskRepository): Promise<HintRecorder> {
    const recorder = new HintRecorder();
    recorder.watch = await repository.watchAvailability((hints) => {
      recorder.batches.push(hints.map((hint) => ({ ...hint })));
    });
    return recorder;
  }

  /** Waits until `count` batches have come (hints are lossy in general, but not in a healthy test bed). */
  async received(count: number): Promise<(readonly AvailabilityHint[])[]> {
    await waitUntil(
      () => this.batches.length >= count,
      () => `${count} batches of availability hints (got ${this.batches.length})`,
    );
    return this.batches;
  }

  async close(): Promise<void> {
    await this.watch?.close();
  }
}

/**
 * Expects `batch` to hold exactly one hint per expected topic, in any order, with the given delay; a
 * `count`, where the store gives one, must be the expected one.
 */
export function expectHints(
  batch: readonly AvailabilityHint[] | undefined,
  expected: readonly { topic: string; delay: number; count?: number }[],
): void {
  expect(batch, 'a batch of hints').to.not.equal(undefined);
  expect(batch!.map((hint) => hint.topic)).to.have.members(expected.map((hint) => hint.topic));
  for (const hint of batch!) {
    const wanted = expected.find((candidate) => candidate.topic === hint.topic)!;
    expect(hint.delay, `delay of the hint for ${hint.topic}`).to.equal(wanted.delay);
    if (hint.count !== undefined && wanted.count !== undefined) {
      expect(hint.count, `count of the hint for ${hint.topic}`).to.equal(wanted.count);
    }
  }
}

/** Expects a task given back without an outcome (unlocked, or waiting for a retry): pending and held by nobody. */
export function expectGivenBack(task: ExternalTask): void {
  expect(task.state).to.equal('pending');
  expect(task).to.not.have.property('workerId');
  expect(task).to.not.have.property('lockExpirationTime');
  expect(task).to.not.have.property('finishedAt');
}

/** Builds the claim of one topic. */
export function topicClaim(topicName: string, lockDuration = LOCK): TopicClaim {
  return { topicName, lockDuration };
}

/**
 * The world of one case: the store, its clock, a recorder of its change feed subscribed before the case
 * began, and short forms of the operations the cases use. Filled in before each test by
 * {@link ContractBed.open}; emptied after it by {@link ContractBed.close}.
 */
export class ContractBed {
  clock!: ManualClock;
  repository!: ExternalTaskRepository;
  private testbed: RepositoryContractTestbed | undefined;
  private recorder: ChangeRecorder | undefined;
  /** Changes before this index of the recorder's list were forgotten by the case. */
  private mark = 0;
  private topics = 0;
  private heldTenants = 0;
  private markers = 0;
  private readonly opened: { close(): Promise<void> }[] = [];

  async open(makeTestbed: MakeRepositoryTestbed): Promise<void> {
    this.clock = new ManualClock(START);
    this.testbed = await makeTestbed({ clock: this.clock });
    this.repository = this.testbed.repository;
    this.mark = 0;
    this.recorder = await ChangeRecorder.subscribe(this.repository);
  }

  async close(): Promise<void> {
    for (const subscription of this.opened.splice(0).reverse()) await subscription.close();
    await this.recorder?.close();
    this.recorder = undefined;
    const testbed = this.testbed;
    this.testbed = undefined;
    await testbed?.close?.();
  }

  // The change feed, as the recorder saw it.

  /** Waits until the recorder has every change the store made so far. */
  async settled(): Promise<void> {
    await this.recorder!.settled();
  }

  /** Every change since the case began (or since {@link forgetChanges}), once delivered. */
  async changes(): Promise<ExternalTaskChange[]> {
    await this.settled();
    return this.recorder!.changes.slice(this.mark);
  }

  /** Forgets the changes recorded so far (after they were all delivered). */
  async forgetChanges(): Promise<void> {
    await this.settled();
    this.mark = this.recorder!.changes.length;
  }

  /** The types of the recorded changes, of one task if given. */
  async changeTypes(externalTaskId?: string): Promise<ExternalTaskChangeType[]> {
    return (await this.changes())
      .filter((change) => externalTaskId === undefined || change.task.id === externalTaskId)
      .map((change) => change.type);
  }

  /** The recorded changes of one type, of one task if given. */
  async changesOf<T extends ExternalTaskChangeType>(
    type: T,
    externalTaskId?: string,
  ): Promise<(ExternalTaskChange & { readonly type: T })[]> {
    return (await this.changes()).filter(
      (change): change is ExternalTaskChange & { readonly type: T } =>
        change.type === type && (externalTaskId === undefined || change.task.id === externalTaskId),
    );
  }

  /** Expects `read` to change nothing: no new position, no change delivered. Answers what it answered. */
  async expectNoChange<T>(read: () => Promise<T>): Promise<T> {
    await this.forgetChanges();
    const before = await this.repository.currentPosition();
    const answer = await read();
    expect(await this.repository.currentPosition(), 'the position after a read').to.equal(before);
    expect(await this.changes(), 'changes made by a read').to.deep.equal([]);
    return answer;
  }

  /** Another subscriber of the feed, closed after the case. */
  async record(options: RecorderOptions = {}): Promise<ChangeRecorder> {
    const recorder = await ChangeRecorder.subscribe(this.repository, options);
    this.opened.push(recorder);
    return recorder;
  }

  /**
   * The batches of hints `action` makes. A watch opens before it; after it, a marker task is created on
   * a topic of its own. Hints of one store arrive in order, so once the marker's hint has come, every
   * hint the action made has come too (and a hint it must not make would show).
   */
  async hintsOf(action: () => Promise<unknown>): Promise<(readonly AvailabilityHint[])[]> {
    const hints = await this.watchHints();
    await action();
    const marker = `hint-marker-${++this.markers}`;
    await this.create({ topic: marker });
    const isMarker = (batch: readonly AvailabilityHint[]): boolean =>
      batch.some((hint) => hint.topic === marker);
    await waitUntil(
      () => hints.batches.some(isMarker),
      () => `the hint of the marker task created after the action (got ${hints.batches.length} batches)`,
    );
    await hints.close();
    expect(hints.batches.findIndex(isMarker), 'the marker batch comes last').to.equal(
      hints.batches.length - 1,
    );
    expectHints(hints.batches[hints.batches.length - 1], [{ topic: marker, delay: 0, count: 1 }]);
    return hints.batches.slice(0, -1);
  }

  /** An availability watch, closed after the case. */
  async watchHints(): Promise<HintRecorder> {
    const recorder = await HintRecorder.watch(this.repository);
    this.opened.push(recorder);
    return recorder;
  }

  // Operations.

  /** A topic no other task of the case uses. */
  freshTopic(): string {
    return `topic-${++this.topics}`;
  }

  create(overrides: Partial<NewExternalTask> = {}): Promise<ExternalTask> {
    return this.repository.create(newTask(overrides));
  }

  /** A claim of `maxTasks` of `topics` (a topic name: with the lock {@link LOCK}). */
  claim(
    workerId: string,
    maxTasks = 10,
    topics: string | readonly TopicClaim[] = TOPIC,
    scope?: TaskScope,
  ): Promise<ExternalTask[]> {
    return this.repository.claim({
      workerId,
      topics: typeof topics === 'string' ? [topicClaim(topics)] : topics,
      maxTasks,
      ...(scope && { scope }),
    });
  }

  /**
   * Creates a task and has `workerId` claim it, and only it, whatever else its topic holds: the task gets
   * a tenant of its own (unless `overrides` name one) and the claim is scoped to it.
   */
  async createHeld(
    workerId = 'worker-a',
    overrides: Partial<NewExternalTask> = {},
    lockDuration = LOCK,
  ): Promise<ExternalTask> {
    const topic = overrides.topic ?? this.freshTopic();
    const tenantId = overrides.tenantId ?? `held-${++this.heldTenants}`;
    const task = await this.create({ ...overrides, topic, tenantId });
    const claimed = await this.claim(workerId, 1, [topicClaim(topic, lockDuration)], {
      tenantIds: [tenantId],
    });
    expect(ids(claimed), 'the task createHeld claims').to.deep.equal([task.id]);
    return claimed[0]!;
  }

  extend(
    externalTaskId: string,
    workerId: string,
    lockDuration = LOCK,
    scope?: TaskScope,
  ): Promise<ConditionalWriteResult> {
    return this.repository.extendLock({ externalTaskId, workerId, lockDuration, ...(scope && { scope }) });
  }

  finish(
    externalTaskId: string,
    workerId: string,
    result?: JsonValue,
    scope?: TaskScope,
  ): Promise<ConditionalWriteResult> {
    return this.repository.complete({
      externalTaskId,
      workerId,
      outcome: { state: 'finished', ...(result !== undefined && { result }) },
      ...(scope && { scope }),
    });
  }

  /** Fails a held task with the BPMN error {@link bpmnError}. */
  failBpmn(externalTaskId: string, workerId: string, scope?: TaskScope): Promise<ConditionalWriteResult> {
    return this.repository.complete({
      externalTaskId,
      workerId,
      outcome: { state: 'failed', error: bpmnError },
      ...(scope && { scope }),
    });
  }

  /** Fails a held task with the service error {@link serviceError}, asking for `retry` if given. */
  failService(
    externalTaskId: string,
    workerId: string,
    retry?: RetryRequest,
  ): Promise<ConditionalWriteResult> {
    return this.repository.complete({
      externalTaskId,
      workerId,
      outcome: retry
        ? { state: 'failed', error: serviceError, retry }
        : { state: 'failed', error: serviceError },
    });
  }

  unlock(externalTaskId: string, workerId: string, scope?: TaskScope): Promise<ConditionalWriteResult> {
    return this.repository.unlock({ externalTaskId, workerId, ...(scope && { scope }) });
  }

  /** The current record of a task that must exist. */
  async current(externalTaskId: string): Promise<ExternalTask> {
    const task = await this.repository.getById(externalTaskId);
    expect(task, `task ${externalTaskId}`).to.not.equal(undefined);
    return task!;
  }

  async countsOf(topic: string): Promise<TopicTaskCounts> {
    const [counts] = await this.repository.countByTopic([topic]);
    expect(counts).to.not.equal(undefined);
    return counts!;
  }

  async expectCounts(topic: string, expected: Partial<Counts>): Promise<void> {
    expect(await this.countsOf(topic)).to.deep.equal({ ...emptyTopicCounts(topic), ...expected });
  }

  /** `msUntilNextAvailable` must answer the time from now until `at` (ms since the epoch). */
  async expectNextAvailableAt(topics: readonly string[], at: number | undefined): Promise<void> {
    expect(await this.repository.msUntilNextAvailable(topics)).to.equal(
      at === undefined ? undefined : at - this.clock.now(),
    );
  }

  /** Every task of `topic`, paging through query results. */
  async allOfTopic(topic: string): Promise<ExternalTask[]> {
    const tasks: ExternalTask[] = [];
    for (;;) {
      const page = await this.repository.query({ topic, limit: 1000, offset: tasks.length });
      tasks.push(...page.tasks);
      if (page.tasks.length === 0 || tasks.length >= page.total) return tasks;
    }
  }
}

export const bpmnError = { type: 'bpmn', errorCode: 'E-42', errorMessage: 'no stock' } as const;
export const serviceError = { type: 'service', errorMessage: 'mail server down' } as const;
