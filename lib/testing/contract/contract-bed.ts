import { expect } from 'chai';
import { ManualClock } from '../../clock/index.js';
import type { ExternalTask, JsonValue, NewExternalTask } from '../../model/index.js';
import type {
  AvailabilityHint,
  ConditionalWriteResult,
  ExternalTaskChange,
  ExternalTaskChangeType,
  ExternalTaskRepository,
  RetryRequest,
  TaskScope,
  TopicClaim,
  TopicTaskCounts,
} from '../../repository/external-task-repository.js';
import { emptyTopicCounts } from '../../repository/topic-counts.js';
import { bpmnError, LOCK, newTask, serviceError, START, TOPIC, topicClaim } from './case-inputs.js';
import { expectHints, ids } from './expectations.js';
import type { Counts } from './oracle.js';
import { ChangeRecorder, HintRecorder, type RecorderOptions } from './recorders.js';
import type { MakeRepositoryTestbed, RepositoryContractTestbed } from './testbed.js';
import { waitUntil } from './waiting.js';

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
