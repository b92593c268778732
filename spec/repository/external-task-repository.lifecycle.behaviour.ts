import { expect } from 'chai';
import fc from 'fast-check';
import { BadRequestError, GoneError, NotFoundError } from '../../lib/errors/index.js';
import type { ExternalTask, NewExternalTask } from '../../lib/model/index.js';
import type {
  CancelSelector,
  ConditionalWriteResult,
  ExternalTaskChange,
  ExternalTaskChangeType,
  ExternalTaskQuery,
  ExternalTaskRepository,
  RetryRequest,
  TopicTaskCounts,
} from '../../lib/repository/index.js';
import { rejectionOf, useRepositoryTestbed } from '../support/fixtures.js';

/** 2026-01-01T00:00:00.000Z: the fake "now" every case starts at. */
const START = Date.UTC(2026, 0, 1);
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const TOPIC = 'lc-send-invoice';
const LOCK = 1000;

let counter = 0;

/** A valid new task with fresh engine ids; `overrides` replace fields. */
function newTask(overrides: Partial<NewExternalTask> = {}): NewExternalTask {
  counter++;
  return {
    topic: TOPIC,
    flowNodeInstanceId: `lc-fni-${counter}`,
    correlationId: `lc-corr-${counter}`,
    processInstanceId: `lc-pi-${counter}`,
    ...overrides,
  };
}

async function expectBadRequest(promise: Promise<unknown>, argument: string): Promise<void> {
  const error = await rejectionOf(promise);
  expect(error).to.be.instanceOf(BadRequestError);
  expect(error).to.include({ status: 400, code: 'BAD_REQUEST', argument });
}

async function expectGone(
  promise: Promise<unknown>,
  externalTaskId: string,
  state: 'finished' | 'failed' | 'cancelled',
): Promise<GoneError> {
  const error = await rejectionOf(promise);
  expect(error).to.be.instanceOf(GoneError);
  expect(error).to.include({ status: 410, code: 'TASK_GONE', externalTaskId, state });
  return error as GoneError;
}

function ids(tasks: readonly ExternalTask[]): string[] {
  return tasks.map((task) => task.id);
}

/** The task of a result that carries one; fails the test otherwise. */
function taskOf(result: ConditionalWriteResult): ExternalTask {
  if (result.status === 'not-found') return expect.fail('expected the result to carry a task');
  return result.task;
}

const zeroCounts = {
  available: 0,
  locked: 0,
  retrying: 0,
  failed: 0,
  incidents: 0,
  finished: 0,
  cancelled: 0,
};

type Counts = Omit<TopicTaskCounts, 'topic'>;

/** The counts of `topic` as brute force over the query results at `now`. */
function countRecords(tasks: readonly ExternalTask[], now: number): Counts {
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

/**
 * The lifecycle behaviour every {@link ExternalTaskRepository} must show beyond the basic claim-and-complete
 * cycle: retries and incidents, unlock, cancellation, setRetries, query, countByTopic and lock-expiry
 * notices. Call it inside a `describe` of the adapter with a factory that returns a fresh repository (an
 * empty one is not required: every case uses fresh engine ids, and the cases that need a clean slate use
 * their own topics). The suite installs sinon fake timers (Date, setTimeout, clearTimeout) before calling
 * the factory, so the repository must read "now" from `Date.now()` at call time.
 */
export function behavesLikeAnExternalTaskRepositoryThroughTheLifecycle(
  createRepository: () => ExternalTaskRepository | Promise<ExternalTaskRepository>,
): void {
  const bed = useRepositoryTestbed(createRepository, START);
  let topicCounter = 0;

  /** A topic no other case (or run) uses, for counts that need a clean slate. */
  const freshTopic = (): string => `lc-topic-${++topicCounter}-${Math.random().toString(36).slice(2, 8)}`;

  const create = (overrides: Partial<NewExternalTask> = {}): Promise<ExternalTask> =>
    bed.repository.create(newTask(overrides));

  const claim = (
    workerId: string,
    maxTasks = 10,
    topicName = TOPIC,
    lockDuration = LOCK,
  ): Promise<ExternalTask[]> =>
    bed.repository.claim({ workerId, topics: [{ topicName, lockDuration }], maxTasks });

  /** Creates a task and has `workerId` claim it (and only it, whatever else its topic holds). */
  const createHeld = async (
    workerId = 'worker-a',
    overrides: Partial<NewExternalTask> = {},
    lockDuration = LOCK,
  ): Promise<ExternalTask> => {
    const topic = overrides.topic ?? freshTopic();
    const task = await create({ ...overrides, topic });
    const claimed = await bed.repository.claim({
      workerId,
      topics: [{ topicName: topic, lockDuration }],
      maxTasks: 1,
      isVisible: (candidate) => candidate.id === task.id,
    });
    expect(ids(claimed)).to.deep.equal([task.id]);
    return claimed[0]!;
  };

  const extend = (externalTaskId: string, workerId: string, lockDuration = LOCK) =>
    bed.repository.extendLock({ externalTaskId, workerId, lockDuration });

  const finish = (externalTaskId: string, workerId: string) =>
    bed.repository.complete({
      externalTaskId,
      workerId,
      outcome: { state: 'finished', result: { ok: true } },
    });

  const failBpmn = (externalTaskId: string, workerId: string) =>
    bed.repository.complete({
      externalTaskId,
      workerId,
      outcome: { state: 'failed', error: { type: 'bpmn', errorCode: 'E-42', errorMessage: 'no stock' } },
    });

  const serviceError = { type: 'service', errorMessage: 'mail server down' } as const;

  const failService = (externalTaskId: string, workerId: string, retry?: RetryRequest) =>
    bed.repository.complete({
      externalTaskId,
      workerId,
      outcome: retry
        ? { state: 'failed', error: serviceError, retry }
        : { state: 'failed', error: serviceError },
    });

  const unlock = (externalTaskId: string, workerId: string) =>
    bed.repository.unlock({ externalTaskId, workerId });

  const current = async (externalTaskId: string): Promise<ExternalTask> => {
    const task = await bed.repository.getById(externalTaskId);
    expect(task, `task ${externalTaskId}`).to.not.equal(undefined);
    return task!;
  };

  const changesOf = (type: ExternalTaskChangeType, externalTaskId?: string): ExternalTaskChange[] =>
    bed.changes.filter(
      (change) => change.type === type && (externalTaskId === undefined || change.task.id === externalTaskId),
    );

  const typesFor = (externalTaskId: string): ExternalTaskChangeType[] =>
    bed.changes.filter((change) => change.task.id === externalTaskId).map((change) => change.type);

  const countsOf = async (topic: string): Promise<TopicTaskCounts> => {
    const [counts] = await bed.repository.countByTopic([topic]);
    expect(counts).to.not.equal(undefined);
    return counts!;
  };

  const expectCounts = async (topic: string, expected: Partial<Counts>): Promise<void> => {
    expect(await countsOf(topic)).to.deep.equal({ topic, ...zeroCounts, ...expected });
  };

  /** Every task of `topic`, paging through query results. */
  const allOfTopic = async (topic: string): Promise<ExternalTask[]> => {
    const tasks: ExternalTask[] = [];
    for (;;) {
      const page = await bed.repository.query({ topic, limit: 1000, offset: tasks.length });
      tasks.push(...page.tasks);
      if (page.tasks.length === 0 || tasks.length >= page.total) return tasks;
    }
  };

  describe('create with a retry budget', () => {
    it('stores the given retries and reports them on every read', async () => {
      const task = await create({ retries: 3 });
      expect(task.retries).to.equal(3);
      expect((await current(task.id)).retries).to.equal(3);
      expect(changesOf('created', task.id)[0]?.task.retries).to.equal(3);
    });

    it('stores no retries field when none is given', async () => {
      const task = await create();
      expect(task).to.not.have.property('retries');
      expect(await current(task.id)).to.not.have.property('retries');
    });

    it('accepts the bounds 0 and 1,000,000', async () => {
      expect((await create({ retries: 0 })).retries).to.equal(0);
      expect((await create({ retries: 1_000_000 })).retries).to.equal(1_000_000);
    });

    for (const [label, value] of [
      ['a negative number', -1],
      ['more than 1,000,000', 1_000_001],
      ['a fraction', 1.5],
      ['NaN', Number.NaN],
      ['Infinity', Number.POSITIVE_INFINITY],
      ['a numeric string', '3'],
      ['null', null],
    ] as const) {
      it(`refuses ${label} as retries with a BadRequestError naming 'retries', storing nothing`, async () => {
        const topic = freshTopic();
        await expectBadRequest(create({ topic, retries: value as unknown as number }), 'retries');
        expect((await bed.repository.query({ topic })).total).to.equal(0);
        expect(bed.changes).to.deep.equal([]);
      });
    }
  });

  describe('service failures with retries', () => {
    it('keeps the task pending, unlocked, with the new budget, the due time and the last error', async () => {
      const held = await createHeld('worker-a', { retries: 5 });
      bed.clock.tick(100);
      const result = await failService(held.id, 'worker-a', { retries: 4, retryTimeout: 3000 });
      expect(result.status).to.equal('ok');
      for (const task of [taskOf(result), await current(held.id)]) {
        expect(task.state).to.equal('pending');
        expect(task).to.not.have.property('workerId');
        expect(task).to.not.have.property('lockExpirationTime');
        expect(task).to.not.have.property('finishedAt');
        expect(task).to.not.have.property('incident');
        expect(task.retries).to.equal(4);
        expect(task.retryAt).to.deep.equal(new Date(START + 100 + 3000));
        expect(task.error).to.deep.equal(serviceError);
      }
    });

    it("announces 'retryScheduled' (not 'failed') with the record after the change", async () => {
      const held = await createHeld();
      await failService(held.id, 'worker-a', { retries: 2, retryTimeout: 500 });
      expect(typesFor(held.id)).to.deep.equal(['created', 'locked', 'retryScheduled']);
      const [change] = changesOf('retryScheduled', held.id);
      expect(change!.task).to.include({ state: 'pending', retries: 2 });
      expect(change!.task.retryAt).to.deep.equal(new Date(START + 500));
      expect(change!.task).to.not.have.property('workerId');
    });

    it('is not claimable before retryAt and is claimable from retryAt on; the claim clears retryAt', async () => {
      const held = await createHeld('worker-a', { topic: TOPIC });
      await failService(held.id, 'worker-a', { retries: 2, retryTimeout: 3000 });
      expect(await claim('worker-b')).to.deep.equal([]);
      bed.clock.tick(2999);
      expect(await claim('worker-b')).to.deep.equal([]);
      bed.clock.tick(1);
      const claimed = await claim('worker-b');
      expect(ids(claimed)).to.deep.equal([held.id]);
      expect(claimed[0]).to.include({ workerId: 'worker-b', retries: 2 });
      expect(claimed[0]).to.not.have.property('retryAt');
      expect(await current(held.id)).to.not.have.property('retryAt');
      expect(claimed[0]!.lockExpirationTime).to.deep.equal(new Date(START + 3000 + LOCK));
    });

    it('is claimable at once with a retryTimeout of 0', async () => {
      const topic = freshTopic();
      const held = await createHeld('worker-a', { topic });
      await failService(held.id, 'worker-a', { retries: 1, retryTimeout: 0 });
      expect(ids(await claim('worker-a', 1, topic))).to.deep.equal([held.id]);
    });

    it("answers 'locked' to the old holder's extend, complete and unlock once the retry is scheduled", async () => {
      const held = await createHeld();
      await failService(held.id, 'worker-a', { retries: 2, retryTimeout: 3000 });
      bed.changes = [];
      expect((await extend(held.id, 'worker-a')).status).to.equal('locked');
      expect((await finish(held.id, 'worker-a')).status).to.equal('locked');
      expect((await failService(held.id, 'worker-a', { retries: 1, retryTimeout: 10 })).status).to.equal(
        'locked',
      );
      expect((await unlock(held.id, 'worker-a')).status).to.equal('locked');
      expect(bed.changes).to.deep.equal([]);
      const task = await current(held.id);
      expect(task).to.include({ state: 'pending', retries: 2 });
      expect(task.retryAt).to.deep.equal(new Date(START + 3000));
    });

    it("answers 'locked' to the old holder once another worker claimed the due retry", async () => {
      const held = await createHeld('worker-a', { topic: TOPIC });
      await failService(held.id, 'worker-a', { retries: 2, retryTimeout: 100 });
      bed.clock.tick(100);
      expect(ids(await claim('worker-b'))).to.deep.equal([held.id]);
      const result = await finish(held.id, 'worker-a');
      expect(result.status).to.equal('locked');
      expect(taskOf(result).workerId).to.equal('worker-b');
      expect((await finish(held.id, 'worker-b')).status).to.equal('ok');
    });

    it("fails with an incident when the retries given are 0, announced as 'failed'", async () => {
      const held = await createHeld('worker-a', { retries: 1 });
      bed.clock.tick(250);
      const result = await failService(held.id, 'worker-a', { retries: 0, retryTimeout: 1000 });
      expect(result.status).to.equal('ok');
      for (const task of [taskOf(result), await current(held.id)]) {
        expect(task).to.include({ state: 'failed', incident: true, retries: 0 });
        expect(task.finishedAt).to.deep.equal(new Date(START + 250));
        expect(task.error).to.deep.equal(serviceError);
        expect(task).to.not.have.property('lockExpirationTime');
        expect(task).to.not.have.property('retryAt');
      }
      expect(typesFor(held.id)).to.deep.equal(['created', 'locked', 'failed']);
      expect(changesOf('failed', held.id)[0]!.task).to.include({ incident: true });
      bed.clock.tick(5000);
      expect(await claim('worker-b', 10, held.topic)).to.deep.equal([]);
    });

    it('fails with an incident when the retries given are 0 even on a task created without a budget', async () => {
      const held = await createHeld();
      const result = await failService(held.id, 'worker-a', { retries: 0, retryTimeout: 0 });
      expect(taskOf(result)).to.include({ state: 'failed', incident: true, retries: 0 });
    });

    it('fails with an incident on a service failure without retry when the task was created with a budget', async () => {
      const held = await createHeld('worker-a', { retries: 3 });
      const result = await failService(held.id, 'worker-a');
      expect(result.status).to.equal('ok');
      expect(taskOf(result)).to.include({ state: 'failed', incident: true });
      expect(await current(held.id)).to.include({ state: 'failed', incident: true });
    });

    it('fails with an incident on a service failure without retry when the task was created with a budget of 0', async () => {
      const held = await createHeld('worker-a', { retries: 0 });
      expect(taskOf(await failService(held.id, 'worker-a'))).to.include({ state: 'failed', incident: true });
    });

    it('fails with an incident on a service failure without retry after an earlier retry set a budget', async () => {
      const held = await createHeld('worker-a', { topic: TOPIC });
      await failService(held.id, 'worker-a', { retries: 1, retryTimeout: 10 });
      bed.clock.tick(10);
      expect(ids(await claim('worker-b'))).to.deep.equal([held.id]);
      const result = await failService(held.id, 'worker-b');
      expect(taskOf(result)).to.include({ state: 'failed', incident: true });
    });

    it('fails without an incident field on a service failure without retry when the task has no budget', async () => {
      const held = await createHeld();
      const result = await failService(held.id, 'worker-a');
      expect(result.status).to.equal('ok');
      for (const task of [taskOf(result), await current(held.id)]) {
        expect(task.state).to.equal('failed');
        expect(task).to.not.have.property('incident');
        expect(task.error).to.deep.equal(serviceError);
      }
    });

    it('never makes a BPMN failure an incident, even on a task with a retry budget', async () => {
      const held = await createHeld('worker-a', { retries: 3 });
      const result = await failBpmn(held.id, 'worker-a');
      expect(result.status).to.equal('ok');
      for (const task of [taskOf(result), await current(held.id)]) {
        expect(task.state).to.equal('failed');
        expect(task.incident).to.not.equal(true);
      }
      await expectCounts(held.topic, { failed: 1 });
      expect(ids((await bed.repository.query({ topic: held.topic, incident: true })).tasks)).to.deep.equal(
        [],
      );
    });

    it('lets the next holder schedule another retry with a lower budget', async () => {
      const topic = freshTopic();
      const held = await createHeld('worker-a', { topic, retries: 3 });
      await failService(held.id, 'worker-a', { retries: 2, retryTimeout: 100 });
      bed.clock.tick(100);
      expect(ids(await claim('worker-b', 1, topic))).to.deep.equal([held.id]);
      bed.clock.tick(50);
      const result = await failService(held.id, 'worker-b', { retries: 1, retryTimeout: 200 });
      expect(taskOf(result)).to.include({ state: 'pending', retries: 1 });
      expect(taskOf(result).retryAt).to.deep.equal(new Date(START + 150 + 200));
      expect(changesOf('retryScheduled', held.id)).to.have.length(2);
    });
  });

  describe('nextAvailableAt with scheduled retries', () => {
    it('answers the due time of a scheduled retry', async () => {
      const topic = freshTopic();
      const held = await createHeld('worker-a', { topic });
      bed.clock.tick(40);
      await failService(held.id, 'worker-a', { retries: 1, retryTimeout: 2000 });
      expect(await bed.repository.nextAvailableAt([topic])).to.deep.equal(new Date(START + 40 + 2000));
    });

    it('answers the earliest of lock expirations and retry times among the given topics only', async () => {
      const topic = freshTopic();
      const other = freshTopic();
      const quiet = freshTopic();
      await createHeld('worker-a', { topic }, 5000);
      const retried = await createHeld('worker-a', { topic }, 5000);
      await failService(retried.id, 'worker-a', { retries: 1, retryTimeout: 2000 });
      const early = await createHeld('worker-a', { topic: other });
      await failService(early.id, 'worker-a', { retries: 1, retryTimeout: 100 });

      expect(await bed.repository.nextAvailableAt([topic])).to.deep.equal(new Date(START + 2000));
      expect(await bed.repository.nextAvailableAt([topic, other])).to.deep.equal(new Date(START + 100));
      expect(await bed.repository.nextAvailableAt([other])).to.deep.equal(new Date(START + 100));
      expect(await bed.repository.nextAvailableAt([quiet])).to.equal(undefined);

      bed.clock.tick(100);
      expect(await bed.repository.nextAvailableAt([topic, other])).to.deep.equal(new Date(START + 2000));
      bed.clock.tick(1900);
      expect(await bed.repository.nextAvailableAt([topic, other])).to.deep.equal(new Date(START + 5000));
    });

    it('answers a lock expiration when it comes before a retry', async () => {
      const topic = freshTopic();
      const retried = await createHeld('worker-a', { topic });
      await failService(retried.id, 'worker-a', { retries: 1, retryTimeout: 9000 });
      await createHeld('worker-b', { topic }, 700);
      expect(await bed.repository.nextAvailableAt([topic])).to.deep.equal(new Date(START + 700));
    });

    it('answers undefined once the retry is due, and the new lock expiration once it is claimed', async () => {
      const topic = freshTopic();
      const held = await createHeld('worker-a', { topic });
      await failService(held.id, 'worker-a', { retries: 1, retryTimeout: 300 });
      bed.clock.tick(300);
      expect(await bed.repository.nextAvailableAt([topic])).to.equal(undefined);
      await claim('worker-b', 1, topic, 800);
      expect(await bed.repository.nextAvailableAt([topic])).to.deep.equal(new Date(START + 300 + 800));
    });

    it('forgets a retry whose task was cancelled', async () => {
      const topic = freshTopic();
      const held = await createHeld('worker-a', { topic });
      await failService(held.id, 'worker-a', { retries: 1, retryTimeout: 300 });
      expect(await bed.repository.cancel({ externalTaskId: held.id })).to.equal(1);
      expect(await bed.repository.nextAvailableAt([topic])).to.equal(undefined);
    });
  });

  describe('unlock', () => {
    it("gives the holder's task back: pending, no worker, no lock, announced 'unlocked'", async () => {
      const held = await createHeld();
      bed.clock.tick(10);
      const result = await unlock(held.id, 'worker-a');
      expect(result.status).to.equal('ok');
      for (const task of [taskOf(result), await current(held.id)]) {
        expect(task.state).to.equal('pending');
        expect(task).to.not.have.property('workerId');
        expect(task).to.not.have.property('lockExpirationTime');
        expect(task).to.not.have.property('finishedAt');
      }
      expect(typesFor(held.id)).to.deep.equal(['created', 'locked', 'unlocked']);
      expect(changesOf('unlocked', held.id)[0]!.task).to.not.have.property('workerId');
    });

    it('makes the task claimable at once, although its lock had not expired', async () => {
      const topic = freshTopic();
      const held = await createHeld('worker-a', { topic }, 60_000);
      await unlock(held.id, 'worker-a');
      const claimed = await claim('worker-b', 1, topic);
      expect(ids(claimed)).to.deep.equal([held.id]);
      expect(claimed[0]!.workerId).to.equal('worker-b');
      expect(await bed.repository.nextAvailableAt([topic])).to.deep.equal(new Date(START + LOCK));
    });

    it("answers 'locked' to the former holder's extend and complete after unlocking", async () => {
      const held = await createHeld();
      await unlock(held.id, 'worker-a');
      expect((await extend(held.id, 'worker-a')).status).to.equal('locked');
      expect((await finish(held.id, 'worker-a')).status).to.equal('locked');
      expect((await unlock(held.id, 'worker-a')).status).to.equal('locked');
      expect((await current(held.id)).state).to.equal('pending');
    });

    it('lets the holder unlock a task whose lock expired unnoticed', async () => {
      const held = await createHeld();
      bed.clock.tick(LOCK * 5);
      const result = await unlock(held.id, 'worker-a');
      expect(result.status).to.equal('ok');
      expect(taskOf(result)).to.not.have.property('workerId');
    });

    it("answers 'locked' to another worker and changes nothing", async () => {
      const held = await createHeld('worker-a');
      bed.changes = [];
      const result = await unlock(held.id, 'worker-b');
      expect(result.status).to.equal('locked');
      expect(taskOf(result)).to.include({ workerId: 'worker-a' });
      const task = await current(held.id);
      expect(task.workerId).to.equal('worker-a');
      expect(task.lockExpirationTime).to.deep.equal(held.lockExpirationTime);
      expect(bed.changes).to.deep.equal([]);
      expect(await claim('worker-b', 1, held.topic)).to.deep.equal([]);
    });

    it("answers 'locked' on a task nobody has locked", async () => {
      const task = await create();
      expect((await unlock(task.id, 'worker-a')).status).to.equal('locked');
    });

    it("answers 'not-found' for an unknown task", async () => {
      expect(await unlock(UNKNOWN_ID, 'worker-a')).to.deep.equal({ status: 'not-found' });
    });

    it("answers 'gone' with the record for a finished task", async () => {
      const held = await createHeld();
      await finish(held.id, 'worker-a');
      const result = await unlock(held.id, 'worker-a');
      expect(result.status).to.equal('gone');
      expect(taskOf(result).state).to.equal('finished');
    });

    it("answers 'gone' with the record for a failed task", async () => {
      const held = await createHeld();
      await failBpmn(held.id, 'worker-a');
      const result = await unlock(held.id, 'worker-a');
      expect(result.status).to.equal('gone');
      expect(taskOf(result).state).to.equal('failed');
    });

    it("answers 'not-found' when isVisible says no, and changes nothing", async () => {
      const held = await createHeld();
      bed.changes = [];
      const seen: string[] = [];
      const result = await bed.repository.unlock({
        externalTaskId: held.id,
        workerId: 'worker-a',
        isVisible: (task) => {
          seen.push(task.id);
          return false;
        },
      });
      expect(result).to.deep.equal({ status: 'not-found' });
      expect(seen).to.include(held.id);
      expect((await current(held.id)).workerId).to.equal('worker-a');
      expect(bed.changes).to.deep.equal([]);
    });
  });

  describe('cancel', () => {
    it('cancels one pending task by id: state cancelled, finishedAt now, announced once', async () => {
      const task = await create();
      bed.clock.tick(1234);
      expect(await bed.repository.cancel({ externalTaskId: task.id })).to.equal(1);
      const cancelled = await current(task.id);
      expect(cancelled.state).to.equal('cancelled');
      expect(cancelled.finishedAt).to.deep.equal(new Date(START + 1234));
      expect(cancelled).to.not.have.property('lockExpirationTime');
      expect(typesFor(task.id)).to.deep.equal(['created', 'cancelled']);
      expect(changesOf('cancelled', task.id)[0]!.task.state).to.equal('cancelled');
    });

    it("cancels a locked task; the holder's extend, complete and unlock then answer 'gone' (cancelled)", async () => {
      const held = await createHeld();
      expect(await bed.repository.cancel({ externalTaskId: held.id })).to.equal(1);
      const cancelled = await current(held.id);
      expect(cancelled.state).to.equal('cancelled');
      expect(cancelled).to.not.have.property('lockExpirationTime');
      for (const result of [
        await extend(held.id, 'worker-a'),
        await finish(held.id, 'worker-a'),
        await failService(held.id, 'worker-a', { retries: 1, retryTimeout: 0 }),
        await unlock(held.id, 'worker-a'),
      ]) {
        expect(result.status).to.equal('gone');
        expect(taskOf(result).state).to.equal('cancelled');
      }
      expect(typesFor(held.id)).to.deep.equal(['created', 'locked', 'cancelled']);
    });

    it('never hands out a cancelled task, whether it was available, locked or waiting for a retry', async () => {
      const topic = freshTopic();
      const available = await create({ topic });
      const locked = await createHeld('worker-a', { topic });
      const retrying = await createHeld('worker-a', { topic });
      await failService(retrying.id, 'worker-a', { retries: 1, retryTimeout: 100 });
      for (const task of [available, locked, retrying]) {
        expect(await bed.repository.cancel({ externalTaskId: task.id })).to.equal(1);
      }
      expect(await claim('worker-b', 10, topic)).to.deep.equal([]);
      bed.clock.tick(LOCK * 10);
      expect(await claim('worker-b', 10, topic)).to.deep.equal([]);
      expect(await bed.repository.nextAvailableAt([topic])).to.equal(undefined);
      expect(changesOf('lockExpired')).to.deep.equal([]);
    });

    it('cancels the pending tasks of a flow node instance and nothing else', async () => {
      const topic = freshTopic();
      const first = await create({ topic, flowNodeInstanceId: 'lc-fni-shared' });
      const second = await createHeld('worker-a', { topic, flowNodeInstanceId: 'lc-fni-shared' });
      const other = await create({ topic });
      expect(await bed.repository.cancel({ flowNodeInstanceId: 'lc-fni-shared' })).to.equal(2);
      expect((await current(first.id)).state).to.equal('cancelled');
      expect((await current(second.id)).state).to.equal('cancelled');
      expect((await current(other.id)).state).to.equal('pending');
      expect(ids(await claim('worker-b', 10, topic))).to.deep.equal([other.id]);
    });

    it('cancels only the pending tasks of a process instance; finished and failed ones are untouched', async () => {
      const topic = freshTopic();
      const processInstanceId = `lc-pi-shared-${topic}`;
      const inProcess = { topic, processInstanceId };
      const available = await create(inProcess);
      const locked = await createHeld('worker-a', inProcess);
      const retrying = await createHeld('worker-a', inProcess);
      await failService(retrying.id, 'worker-a', { retries: 2, retryTimeout: 5000 });
      const finished = await createHeld('worker-a', inProcess);
      await finish(finished.id, 'worker-a');
      const failed = await createHeld('worker-a', inProcess);
      await failBpmn(failed.id, 'worker-a');
      const incident = await createHeld('worker-a', { ...inProcess, retries: 1 });
      await failService(incident.id, 'worker-a');
      const elsewhere = await create({ topic });
      const before = await Promise.all([finished, failed, incident].map((task) => current(task.id)));
      bed.changes = [];
      bed.clock.tick(77);

      expect(await bed.repository.cancel({ processInstanceId })).to.equal(3);

      for (const task of [available, locked, retrying]) {
        const cancelled = await current(task.id);
        expect(cancelled.state).to.equal('cancelled');
        expect(cancelled.finishedAt).to.deep.equal(new Date(START + 77));
      }
      const after = await Promise.all([finished, failed, incident].map((task) => current(task.id)));
      expect(after).to.deep.equal(before);
      expect((await current(elsewhere.id)).state).to.equal('pending');
      expect(bed.changes.map((change) => change.type)).to.deep.equal(['cancelled', 'cancelled', 'cancelled']);
      expect(bed.changes.map((change) => change.task.id)).to.have.members([
        available.id,
        locked.id,
        retrying.id,
      ]);
    });

    it('answers 0 and announces nothing when the selection has no pending task left', async () => {
      const task = await create();
      expect(await bed.repository.cancel({ externalTaskId: task.id })).to.equal(1);
      bed.changes = [];
      expect(await bed.repository.cancel({ externalTaskId: task.id })).to.equal(0);
      expect(await bed.repository.cancel({ processInstanceId: task.processInstanceId })).to.equal(0);
      expect(await bed.repository.cancel({ flowNodeInstanceId: task.flowNodeInstanceId })).to.equal(0);
      expect(bed.changes).to.deep.equal([]);
      const held = await createHeld();
      await finish(held.id, 'worker-a');
      expect(await bed.repository.cancel({ externalTaskId: held.id })).to.equal(0);
      expect((await current(held.id)).state).to.equal('finished');
    });

    it('answers 0 for unknown ids', async () => {
      await create();
      expect(await bed.repository.cancel({ externalTaskId: UNKNOWN_ID })).to.equal(0);
      expect(await bed.repository.cancel({ flowNodeInstanceId: 'lc-no-such-fni' })).to.equal(0);
      expect(await bed.repository.cancel({ processInstanceId: 'lc-no-such-pi' })).to.equal(0);
      expect(changesOf('cancelled')).to.deep.equal([]);
    });

    for (const [label, selector, argument] of [
      ['no key', {}, 'selector'],
      ['two keys', { externalTaskId: 'x', processInstanceId: 'y' }, 'selector'],
      [
        'all three keys',
        { externalTaskId: 'x', processInstanceId: 'y', flowNodeInstanceId: 'z' },
        'selector',
      ],
      ['null', null, 'selector'],
      ['an empty externalTaskId', { externalTaskId: '' }, 'externalTaskId'],
      ['an empty flowNodeInstanceId', { flowNodeInstanceId: '' }, 'flowNodeInstanceId'],
      ['an empty processInstanceId', { processInstanceId: '' }, 'processInstanceId'],
      ['a numeric processInstanceId', { processInstanceId: 7 }, 'processInstanceId'],
    ] as const) {
      it(`refuses a selector with ${label} with a BadRequestError naming '${argument}'`, async () => {
        const task = await create({ processInstanceId: 'y' });
        await expectBadRequest(bed.repository.cancel(selector as unknown as CancelSelector), argument);
        expect((await current(task.id)).state).to.equal('pending');
        expect(changesOf('cancelled')).to.deep.equal([]);
      });
    }
  });

  describe('setRetries', () => {
    it('throws NotFoundError for an unknown task', async () => {
      const error = await rejectionOf(bed.repository.setRetries(UNKNOWN_ID, 3));
      expect(error).to.be.instanceOf(NotFoundError);
      expect(error).to.include({ status: 404, code: 'TASK_NOT_FOUND', externalTaskId: UNKNOWN_ID });
    });

    it("replaces the budget of a pending task, announced 'retriesSet'", async () => {
      const task = await create({ retries: 1 });
      const updated = await bed.repository.setRetries(task.id, 7);
      expect(updated).to.include({ id: task.id, state: 'pending', retries: 7 });
      expect((await current(task.id)).retries).to.equal(7);
      expect(typesFor(task.id)).to.deep.equal(['created', 'retriesSet']);
      expect(changesOf('retriesSet', task.id)[0]!.task.retries).to.equal(7);
    });

    it('gives a budget to a pending task that had none, and may set it to 0', async () => {
      const task = await create();
      expect((await bed.repository.setRetries(task.id, 2)).retries).to.equal(2);
      expect((await bed.repository.setRetries(task.id, 0)).retries).to.equal(0);
      expect(await current(task.id)).to.include({ state: 'pending', retries: 0 });
    });

    it("leaves a locked task's lock alone", async () => {
      const held = await createHeld();
      const updated = await bed.repository.setRetries(held.id, 4);
      expect(updated.workerId).to.equal('worker-a');
      expect(updated.lockExpirationTime).to.deep.equal(held.lockExpirationTime);
      expect((await finish(held.id, 'worker-a')).status).to.equal('ok');
    });

    it('brings an incident back to pending, available at once, without incident and finishedAt', async () => {
      const topic = freshTopic();
      const held = await createHeld('worker-a', { topic, retries: 1 });
      await failService(held.id, 'worker-a', { retries: 0, retryTimeout: 0 });
      bed.clock.tick(500);
      const revived = await bed.repository.setRetries(held.id, 3);
      for (const task of [revived, await current(held.id)]) {
        expect(task).to.include({ state: 'pending', retries: 3 });
        expect(task).to.not.have.property('incident');
        expect(task).to.not.have.property('finishedAt');
        expect(task).to.not.have.property('lockExpirationTime');
        expect(task).to.not.have.property('retryAt');
      }
      expect(typesFor(held.id)).to.deep.equal(['created', 'locked', 'failed', 'retriesSet']);
      expect(changesOf('retriesSet', held.id)[0]!.task.state).to.equal('pending');
      const claimed = await claim('worker-b', 1, topic);
      expect(ids(claimed)).to.deep.equal([held.id]);
      expect(claimed[0]!.workerId).to.equal('worker-b');
    });

    it('leaves an incident failed when the retries set are 0', async () => {
      const topic = freshTopic();
      const held = await createHeld('worker-a', { topic, retries: 2 });
      await failService(held.id, 'worker-a');
      const task = await bed.repository.setRetries(held.id, 0);
      expect(task).to.include({ state: 'failed', incident: true });
      expect(await current(held.id)).to.include({ state: 'failed', incident: true });
      expect(await claim('worker-b', 1, topic)).to.deep.equal([]);
      await expectCounts(topic, { failed: 1, incidents: 1 });
    });

    it('throws GoneError for a finished task', async () => {
      const held = await createHeld();
      await finish(held.id, 'worker-a');
      await expectGone(bed.repository.setRetries(held.id, 3), held.id, 'finished');
      expect((await current(held.id)).state).to.equal('finished');
    });

    it('throws GoneError for a cancelled task, saying it was cancelled', async () => {
      const task = await create();
      await bed.repository.cancel({ externalTaskId: task.id });
      const error = await expectGone(bed.repository.setRetries(task.id, 3), task.id, 'cancelled');
      expect(error.message).to.include('cancelled');
      expect((await current(task.id)).state).to.equal('cancelled');
    });

    it('throws GoneError for a BPMN failure (not an incident)', async () => {
      const held = await createHeld('worker-a', { retries: 2 });
      await failBpmn(held.id, 'worker-a');
      await expectGone(bed.repository.setRetries(held.id, 3), held.id, 'failed');
      expect((await current(held.id)).state).to.equal('failed');
    });

    it('throws GoneError for a service failure on a task without budget (not an incident)', async () => {
      const held = await createHeld();
      await failService(held.id, 'worker-a');
      bed.changes = [];
      await expectGone(bed.repository.setRetries(held.id, 3), held.id, 'failed');
      expect((await current(held.id)).state).to.equal('failed');
      expect(bed.changes).to.deep.equal([]);
    });

    for (const [label, value] of [
      ['a negative number', -1],
      ['more than 1,000,000', 1_000_001],
      ['a fraction', 2.5],
      ['a numeric string', '2'],
      ['NaN', Number.NaN],
    ] as const) {
      it(`refuses ${label} with a BadRequestError naming 'retries', changing nothing`, async () => {
        const task = await create({ retries: 1 });
        await expectBadRequest(bed.repository.setRetries(task.id, value as unknown as number), 'retries');
        expect((await current(task.id)).retries).to.equal(1);
        expect(changesOf('retriesSet')).to.deep.equal([]);
      });
    }
  });

  describe('query', () => {
    /** Tasks in every state, across two topics and two process instances of a fresh namespace. */
    const setUp = async () => {
      const topic = freshTopic();
      const other = freshTopic();
      const pi = `lc-q-pi-${topic}`;
      const pending = await create({ topic, processInstanceId: pi, correlationId: `${pi}-c1` });
      const locked = await createHeld('worker-a', {
        topic,
        processInstanceId: pi,
        correlationId: `${pi}-c1`,
      });
      const finished = await createHeld('worker-a', { topic: other, processInstanceId: pi });
      await finish(finished.id, 'worker-a');
      const bpmn = await createHeld('worker-a', { topic, retries: 2 });
      await failBpmn(bpmn.id, 'worker-a');
      const incident = await createHeld('worker-a', { topic, retries: 2 });
      await failService(incident.id, 'worker-a');
      const incidentOther = await createHeld('worker-a', { topic: other, processInstanceId: pi, retries: 1 });
      await failService(incidentOther.id, 'worker-a', { retries: 0, retryTimeout: 0 });
      const cancelled = await create({ topic: other, flowNodeInstanceId: `${pi}-fni` });
      await bed.repository.cancel({ externalTaskId: cancelled.id });
      const retrying = await createHeld('worker-a', { topic, processInstanceId: pi });
      await failService(retrying.id, 'worker-a', { retries: 1, retryTimeout: 1000 });
      return {
        topic,
        other,
        pi,
        pending,
        locked,
        finished,
        bpmn,
        incident,
        incidentOther,
        cancelled,
        retrying,
        all: [pending, locked, finished, bpmn, incident, incidentOther, cancelled, retrying],
      };
    };

    const queryIds = async (filter: ExternalTaskQuery): Promise<string[]> =>
      ids((await bed.repository.query(filter)).tasks);

    it('finds tasks by topic, in creation order, with their current records', async () => {
      const s = await setUp();
      const page = await bed.repository.query({ topic: s.topic });
      expect(ids(page.tasks)).to.deep.equal(ids([s.pending, s.locked, s.bpmn, s.incident, s.retrying]));
      expect(page.total).to.equal(5);
      expect(page.tasks[1]).to.deep.equal(await current(s.locked.id));
      expect(page.tasks[4]).to.include({ state: 'pending', retries: 1 });
      expect(ids((await bed.repository.query({ topic: s.other })).tasks)).to.deep.equal(
        ids([s.finished, s.incidentOther, s.cancelled]),
      );
    });

    it('finds tasks by state', async () => {
      const s = await setUp();
      expect(await queryIds({ topic: s.topic, state: 'pending' })).to.deep.equal(
        ids([s.pending, s.locked, s.retrying]),
      );
      expect(await queryIds({ topic: s.topic, state: 'failed' })).to.deep.equal(ids([s.bpmn, s.incident]));
      expect(await queryIds({ topic: s.other, state: 'finished' })).to.deep.equal(ids([s.finished]));
      expect(await queryIds({ topic: s.other, state: 'cancelled' })).to.deep.equal(ids([s.cancelled]));
      expect(await queryIds({ topic: s.topic, state: 'cancelled' })).to.deep.equal([]);
      const allCancelled = await queryIds({ state: 'cancelled', limit: 1000 });
      expect(allCancelled).to.include(s.cancelled.id);
      expect(allCancelled).to.not.include(s.pending.id);
    });

    it('finds tasks by processInstanceId, correlationId and flowNodeInstanceId', async () => {
      const s = await setUp();
      expect(await queryIds({ processInstanceId: s.pi })).to.deep.equal(
        ids([s.pending, s.locked, s.finished, s.incidentOther, s.retrying]),
      );
      expect(await queryIds({ correlationId: `${s.pi}-c1` })).to.deep.equal(ids([s.pending, s.locked]));
      expect(await queryIds({ flowNodeInstanceId: `${s.pi}-fni` })).to.deep.equal(ids([s.cancelled]));
      expect(await queryIds({ processInstanceId: 'lc-no-such-pi' })).to.deep.equal([]);
    });

    it('finds only failed tasks with the given incident flag', async () => {
      const s = await setUp();
      expect(await queryIds({ topic: s.topic, incident: true })).to.deep.equal(ids([s.incident]));
      expect(await queryIds({ topic: s.topic, incident: false })).to.deep.equal(ids([s.bpmn]));
      expect(await queryIds({ topic: s.other, incident: false })).to.deep.equal([]);
      expect(await queryIds({ processInstanceId: s.pi, incident: true })).to.deep.equal(
        ids([s.incidentOther]),
      );
    });

    it('combines filters: every given field must match', async () => {
      const s = await setUp();
      expect(await queryIds({ processInstanceId: s.pi, state: 'pending' })).to.deep.equal(
        ids([s.pending, s.locked, s.retrying]),
      );
      expect(await queryIds({ processInstanceId: s.pi, topic: s.other })).to.deep.equal(
        ids([s.finished, s.incidentOther]),
      );
      expect(
        await queryIds({ processInstanceId: s.pi, topic: s.other, state: 'failed', incident: true }),
      ).to.deep.equal(ids([s.incidentOther]));
      expect(await queryIds({ correlationId: `${s.pi}-c1`, state: 'failed' })).to.deep.equal([]);
      expect(await queryIds({ state: 'pending', incident: true, topic: s.topic })).to.deep.equal([]);
      expect(await queryIds({ topic: s.topic, flowNodeInstanceId: `${s.pi}-fni` })).to.deep.equal([]);
    });

    it('follows transitions: a finished task leaves the pending results', async () => {
      const s = await setUp();
      await finish(s.locked.id, 'worker-a');
      expect(await queryIds({ topic: s.topic, state: 'pending' })).to.deep.equal(
        ids([s.pending, s.retrying]),
      );
      expect(await queryIds({ topic: s.topic, state: 'finished' })).to.deep.equal(ids([s.locked]));
      await bed.repository.setRetries(s.incident.id, 1);
      expect(await queryIds({ topic: s.topic, incident: true })).to.deep.equal([]);
      expect(await queryIds({ topic: s.topic, state: 'pending' })).to.deep.equal(
        ids([s.pending, s.incident, s.retrying]),
      );
    });

    it('pages with limit and offset; total counts all matches', async () => {
      const s = await setUp();
      const first = await bed.repository.query({ topic: s.topic, limit: 2 });
      expect(ids(first.tasks)).to.deep.equal(ids([s.pending, s.locked]));
      expect(first.total).to.equal(5);
      const second = await bed.repository.query({ topic: s.topic, limit: 2, offset: 2 });
      expect(ids(second.tasks)).to.deep.equal(ids([s.bpmn, s.incident]));
      expect(second.total).to.equal(5);
      const last = await bed.repository.query({ topic: s.topic, limit: 2, offset: 4 });
      expect(ids(last.tasks)).to.deep.equal(ids([s.retrying]));
      const beyond = await bed.repository.query({ topic: s.topic, limit: 2, offset: 5 });
      expect(beyond).to.deep.equal({ tasks: [], total: 5 });
      expect(await bed.repository.query({ topic: s.topic, state: 'finished' })).to.deep.equal({
        tasks: [],
        total: 0,
      });
    });

    it('answers at most 100 tasks by default, and up to 1000 with a limit', async () => {
      const topic = freshTopic();
      const created: ExternalTask[] = [];
      for (let i = 0; i < 1001; i++) created.push(await create({ topic }));
      const page = await bed.repository.query({ topic });
      expect(page.total).to.equal(1001);
      expect(ids(page.tasks)).to.deep.equal(ids(created.slice(0, 100)));
      const rest = await bed.repository.query({ topic, offset: 100 });
      expect(ids(rest.tasks)).to.deep.equal(ids(created.slice(100, 200)));
      const big = await bed.repository.query({ topic, limit: 1000 });
      expect(big.tasks).to.have.length(1000);
      expect(ids(big.tasks)).to.deep.equal(ids(created.slice(0, 1000)));
      const tail = await bed.repository.query({ topic, limit: 1000, offset: 1000 });
      expect(ids(tail.tasks)).to.deep.equal([created[1000]!.id]);
    });

    for (const [label, filter, argument] of [
      ['an unknown state', { state: 'done' }, 'state'],
      ['a limit of 0', { limit: 0 }, 'limit'],
      ['a limit above 1000', { limit: 1001 }, 'limit'],
      ['a fractional limit', { limit: 1.5 }, 'limit'],
      ['a string limit', { limit: '10' }, 'limit'],
      ['a negative offset', { offset: -1 }, 'offset'],
      ['a fractional offset', { offset: 0.5 }, 'offset'],
      ['a non-boolean incident', { incident: 'yes' }, 'incident'],
      ['an empty topic', { topic: '' }, 'topic'],
      ['a numeric topic', { topic: 5 }, 'topic'],
      ['an empty processInstanceId', { processInstanceId: '' }, 'processInstanceId'],
      ['an empty correlationId', { correlationId: '' }, 'correlationId'],
      ['an empty flowNodeInstanceId', { flowNodeInstanceId: '' }, 'flowNodeInstanceId'],
    ] as const) {
      it(`refuses ${label} with a BadRequestError naming '${argument}'`, async () => {
        await create();
        await expectBadRequest(bed.repository.query(filter as unknown as ExternalTaskQuery), argument);
      });
    }
  });

  describe('countByTopic', () => {
    it('answers zeros for an unknown topic', async () => {
      const topic = freshTopic();
      expect(await bed.repository.countByTopic([topic])).to.deep.equal([{ topic, ...zeroCounts }]);
    });

    it('answers one entry per named topic', async () => {
      const topic = freshTopic();
      const other = freshTopic();
      await create({ topic });
      await create({ topic });
      await createHeld('worker-a', { topic: other });
      const counts = await bed.repository.countByTopic([topic, other]);
      expect(counts).to.have.length(2);
      expect(counts.find((entry) => entry.topic === topic)).to.deep.equal({
        topic,
        ...zeroCounts,
        available: 2,
      });
      expect(counts.find((entry) => entry.topic === other)).to.deep.equal({
        topic: other,
        ...zeroCounts,
        locked: 1,
      });
    });

    it('answers every topic when none is named', async () => {
      const topic = freshTopic();
      const other = freshTopic();
      await create({ topic });
      const held = await createHeld('worker-a', { topic: other });
      await finish(held.id, 'worker-a');
      const counts = await bed.repository.countByTopic();
      expect(counts.find((entry) => entry.topic === topic)).to.deep.equal({
        topic,
        ...zeroCounts,
        available: 1,
      });
      expect(counts.find((entry) => entry.topic === other)).to.deep.equal({
        topic: other,
        ...zeroCounts,
        finished: 1,
      });
      expect(new Set(counts.map((entry) => entry.topic)).size).to.equal(counts.length);
    });

    it('follows time: an expired lock counts as available, a due retry counts as available', async () => {
      const topic = freshTopic();
      await createHeld('worker-a', { topic }, 1000);
      const retried = await createHeld('worker-a', { topic }, 5000);
      await failService(retried.id, 'worker-a', { retries: 1, retryTimeout: 2000 });
      await expectCounts(topic, { locked: 1, retrying: 1 });
      bed.clock.tick(999);
      await expectCounts(topic, { locked: 1, retrying: 1 });
      bed.clock.tick(1);
      await expectCounts(topic, { available: 1, retrying: 1 });
      bed.clock.tick(999);
      await expectCounts(topic, { available: 1, retrying: 1 });
      bed.clock.tick(1);
      await expectCounts(topic, { available: 2 });
    });

    it('follows every transition', async () => {
      const topic = freshTopic();
      const [t1, t2, t3, t4, t5] = [
        await create({ topic, retries: 2 }),
        await create({ topic }),
        await create({ topic }),
        await create({ topic }),
        await create({ topic }),
      ];
      await expectCounts(topic, { available: 5 });

      expect(ids(await claim('worker-a', 5, topic))).to.have.members(ids([t1, t2, t3, t4, t5]));
      await expectCounts(topic, { locked: 5 });

      await finish(t2.id, 'worker-a');
      await expectCounts(topic, { locked: 4, finished: 1 });

      await failBpmn(t3.id, 'worker-a');
      await expectCounts(topic, { locked: 3, finished: 1, failed: 1 });

      await unlock(t4.id, 'worker-a');
      await expectCounts(topic, { available: 1, locked: 2, finished: 1, failed: 1 });

      await failService(t1.id, 'worker-a', { retries: 1, retryTimeout: 100 });
      await expectCounts(topic, { available: 1, locked: 1, retrying: 1, finished: 1, failed: 1 });

      await bed.repository.cancel({ externalTaskId: t4.id });
      await expectCounts(topic, { locked: 1, retrying: 1, finished: 1, failed: 1, cancelled: 1 });

      await bed.repository.cancel({ externalTaskId: t5.id });
      await expectCounts(topic, { retrying: 1, finished: 1, failed: 1, cancelled: 2 });

      bed.clock.tick(100);
      await expectCounts(topic, { available: 1, finished: 1, failed: 1, cancelled: 2 });

      expect(ids(await claim('worker-b', 5, topic))).to.deep.equal([t1.id]);
      await expectCounts(topic, { locked: 1, finished: 1, failed: 1, cancelled: 2 });

      await failService(t1.id, 'worker-b');
      await expectCounts(topic, { finished: 1, failed: 2, incidents: 1, cancelled: 2 });

      await bed.repository.setRetries(t1.id, 0);
      await expectCounts(topic, { finished: 1, failed: 2, incidents: 1, cancelled: 2 });

      await bed.repository.setRetries(t1.id, 1);
      await expectCounts(topic, { available: 1, finished: 1, failed: 1, cancelled: 2 });

      expect(ids(await claim('worker-c', 5, topic))).to.deep.equal([t1.id]);
      await failService(t1.id, 'worker-c', { retries: 0, retryTimeout: 10 });
      await expectCounts(topic, { finished: 1, failed: 2, incidents: 1, cancelled: 2 });
    });

    it('agrees with a brute-force count over query results for random operation sequences', async () => {
      type Op =
        | { kind: 'create'; topic: number; retries: number | undefined; pi: number }
        | { kind: 'claim'; worker: number; topic: number; maxTasks: number; lockDuration: number }
        | { kind: 'finish' | 'bpmn' | 'unlock'; task: number; asHolder: boolean; worker: number }
        | { kind: 'extend'; task: number; asHolder: boolean; worker: number; lockDuration: number }
        | {
            kind: 'service';
            task: number;
            asHolder: boolean;
            worker: number;
            retry: RetryRequest | undefined;
          }
        | { kind: 'cancel'; by: 'task' | 'pi'; task: number; pi: number }
        | { kind: 'setRetries'; task: number; retries: number }
        | { kind: 'tick'; ms: number }
        | { kind: 'check' };

      const index = fc.nat({ max: 50 });
      const worker = fc.nat({ max: 2 });
      const duration = fc.integer({ min: 1, max: 5000 });
      const op: fc.Arbitrary<Op> = fc.oneof(
        fc.record({
          kind: fc.constant('create' as const),
          topic: fc.nat({ max: 1 }),
          retries: fc.option(fc.nat({ max: 3 }), { nil: undefined }),
          pi: fc.nat({ max: 2 }),
        }),
        fc.record({
          kind: fc.constant('claim' as const),
          worker,
          topic: fc.nat({ max: 1 }),
          maxTasks: fc.integer({ min: 1, max: 3 }),
          lockDuration: duration,
        }),
        fc.record({
          kind: fc.constantFrom('finish' as const, 'bpmn' as const, 'unlock' as const),
          task: index,
          asHolder: fc.boolean(),
          worker,
        }),
        fc.record({
          kind: fc.constant('extend' as const),
          task: index,
          asHolder: fc.boolean(),
          worker,
          lockDuration: duration,
        }),
        fc.record({
          kind: fc.constant('service' as const),
          task: index,
          asHolder: fc.boolean(),
          worker,
          retry: fc.option(fc.record({ retries: fc.nat({ max: 3 }), retryTimeout: fc.nat({ max: 5000 }) }), {
            nil: undefined,
          }),
        }),
        fc.record({
          kind: fc.constant('cancel' as const),
          by: fc.constantFrom('task' as const, 'pi' as const),
          task: index,
          pi: fc.nat({ max: 2 }),
        }),
        fc.record({ kind: fc.constant('setRetries' as const), task: index, retries: fc.nat({ max: 3 }) }),
        fc.record({ kind: fc.constant('tick' as const), ms: fc.nat({ max: 6000 }) }),
        fc.record({ kind: fc.constant('check' as const) }),
      );

      let runs = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
          const run = ++runs;
          const topics = [freshTopic(), freshTopic()];
          const pis = [0, 1, 2].map((i) => `lc-prop-${run}-${topics[0]}-pi-${i}`);
          const created: string[] = [];
          const workers = ['worker-a', 'worker-b', 'worker-c'];

          const check = async (): Promise<void> => {
            const now = Date.now();
            const named = await bed.repository.countByTopic(topics);
            const everything = await bed.repository.countByTopic();
            let earliest: number | undefined;
            for (const topic of topics) {
              const tasks = await allOfTopic(topic);
              const expected = { topic, ...countRecords(tasks, now) };
              expect(named.find((entry) => entry.topic === topic)).to.deep.equal(expected);
              const fromAll = everything.find((entry) => entry.topic === topic);
              expect(fromAll ?? { topic, ...zeroCounts }).to.deep.equal(expected);
              for (const task of tasks) {
                if (task.state !== 'pending') continue;
                for (const time of [task.lockExpirationTime, task.retryAt]) {
                  const at = time?.getTime();
                  if (at !== undefined && at > now && (earliest === undefined || at < earliest))
                    earliest = at;
                }
              }
            }
            const next = await bed.repository.nextAvailableAt(topics);
            expect(next?.getTime()).to.equal(earliest);
          };

          const target = async (
            task: number,
            asHolder: boolean,
            other: number,
          ): Promise<{ id: string; workerId: string } | undefined> => {
            if (created.length === 0) return undefined;
            const id = created[task % created.length]!;
            const record = await current(id);
            return { id, workerId: asHolder && record.workerId ? record.workerId : workers[other]! };
          };

          for (const step of ops) {
            switch (step.kind) {
              case 'create': {
                const task = await create({
                  topic: topics[step.topic]!,
                  processInstanceId: pis[step.pi]!,
                  ...(step.retries !== undefined && { retries: step.retries }),
                });
                created.push(task.id);
                break;
              }
              case 'claim': {
                const claimed = await claim(
                  workers[step.worker]!,
                  step.maxTasks,
                  topics[step.topic],
                  step.lockDuration,
                );
                for (const task of claimed) {
                  expect(task.state).to.equal('pending');
                  expect(task).to.not.have.property('retryAt');
                }
                break;
              }
              case 'finish':
              case 'bpmn':
              case 'unlock':
              case 'extend':
              case 'service': {
                const at = await target(step.task, step.asHolder, step.worker);
                if (!at) break;
                if (step.kind === 'finish') await finish(at.id, at.workerId);
                else if (step.kind === 'bpmn') await failBpmn(at.id, at.workerId);
                else if (step.kind === 'unlock') await unlock(at.id, at.workerId);
                else if (step.kind === 'extend') await extend(at.id, at.workerId, step.lockDuration);
                else if (step.kind === 'service') await failService(at.id, at.workerId, step.retry);
                break;
              }
              case 'cancel': {
                if (step.by === 'pi') await bed.repository.cancel({ processInstanceId: pis[step.pi]! });
                else if (created.length > 0)
                  await bed.repository.cancel({ externalTaskId: created[step.task % created.length]! });
                break;
              }
              case 'setRetries': {
                if (created.length === 0) break;
                try {
                  await bed.repository.setRetries(created[step.task % created.length]!, step.retries);
                } catch (error) {
                  expect(error).to.be.instanceOf(GoneError);
                }
                break;
              }
              case 'tick':
                bed.clock.tick(step.ms);
                break;
              case 'check':
                await check();
                break;
            }
          }
          await check();
        }),
        { numRuns: 100 },
      );
    });
  });

  describe('lockExpired', () => {
    it('is announced once when a claim notices the expired lock, naming the old worker', async () => {
      const topic = freshTopic();
      const held = await createHeld('worker-a', { topic });
      bed.clock.tick(LOCK);
      const claimed = await claim('worker-b', 1, topic);
      expect(ids(claimed)).to.deep.equal([held.id]);
      const expired = changesOf('lockExpired', held.id);
      expect(expired).to.have.length(1);
      expect(expired[0]!.task).to.include({ state: 'pending', workerId: 'worker-a' });
      const types = typesFor(held.id);
      expect(types).to.deep.equal(['created', 'locked', 'lockExpired', 'locked']);
      await claim('worker-c', 1, topic);
      await bed.repository.nextAvailableAt([topic]);
      await bed.repository.countByTopic([topic]);
      expect(changesOf('lockExpired', held.id)).to.have.length(1);
    });

    it('is announced once when nextAvailableAt notices it', async () => {
      const topic = freshTopic();
      const held = await createHeld('worker-a', { topic });
      bed.clock.tick(LOCK + 10);
      await bed.repository.nextAvailableAt([topic]);
      expect(changesOf('lockExpired', held.id)).to.have.length(1);
      expect(changesOf('lockExpired', held.id)[0]!.task.workerId).to.equal('worker-a');
      await bed.repository.nextAvailableAt([topic]);
      await bed.repository.countByTopic([topic]);
      await claim('worker-b', 1, topic);
      expect(changesOf('lockExpired', held.id)).to.have.length(1);
    });

    it('is announced once when countByTopic notices it', async () => {
      const topic = freshTopic();
      const held = await createHeld('worker-a', { topic });
      bed.clock.tick(LOCK);
      await bed.repository.countByTopic([topic]);
      expect(changesOf('lockExpired', held.id)).to.have.length(1);
      expect(changesOf('lockExpired', held.id)[0]!.task.workerId).to.equal('worker-a');
      await bed.repository.countByTopic([topic]);
      await bed.repository.nextAvailableAt([topic]);
      expect(changesOf('lockExpired', held.id)).to.have.length(1);
    });

    it('is not announced before the lock runs out', async () => {
      const topic = freshTopic();
      await createHeld('worker-a', { topic });
      bed.clock.tick(LOCK - 1);
      await claim('worker-b', 1, topic);
      await bed.repository.nextAvailableAt([topic]);
      await bed.repository.countByTopic([topic]);
      expect(changesOf('lockExpired')).to.deep.equal([]);
    });

    it('is not announced for a task given back, finished or retried before its lock ran out, nor when a retry comes due', async () => {
      const topic = freshTopic();
      const unlocked = await createHeld('worker-a', { topic });
      await unlock(unlocked.id, 'worker-a');
      const finished = await createHeld('worker-a', { topic });
      await finish(finished.id, 'worker-a');
      const retried = await createHeld('worker-a', { topic });
      await failService(retried.id, 'worker-a', { retries: 1, retryTimeout: 10 });
      bed.clock.tick(LOCK * 3);
      await bed.repository.countByTopic([topic]);
      await bed.repository.nextAvailableAt([topic]);
      await claim('worker-b', 10, topic);
      expect(changesOf('lockExpired')).to.deep.equal([]);
    });

    it('is announced again for a new lock that runs out in turn', async () => {
      const topic = freshTopic();
      const held = await createHeld('worker-a', { topic });
      bed.clock.tick(LOCK);
      await claim('worker-b', 1, topic);
      bed.clock.tick(LOCK);
      await bed.repository.countByTopic([topic]);
      const expired = changesOf('lockExpired', held.id);
      expect(expired.map((change) => change.task.workerId)).to.deep.equal(['worker-a', 'worker-b']);
    });
  });

  describe('races', () => {
    const cancelVersusFinish = async (cancelFirst: boolean): Promise<void> => {
      const held = await createHeld();
      const cancel = () => bed.repository.cancel({ externalTaskId: held.id });
      const complete = () => finish(held.id, 'worker-a');
      const [count, result] = cancelFirst
        ? await Promise.all([cancel(), complete()])
        : await Promise.all([complete(), cancel()]).then(([r, c]) => [c, r] as const);
      const final = await current(held.id);
      if (count === 1) {
        expect(result.status).to.equal('gone');
        expect(taskOf(result).state).to.equal('cancelled');
        expect(final.state).to.equal('cancelled');
        expect(typesFor(held.id)).to.deep.equal(['created', 'locked', 'cancelled']);
      } else {
        expect(count).to.equal(0);
        expect(result.status).to.equal('ok');
        expect(final.state).to.equal('finished');
        expect(typesFor(held.id)).to.deep.equal(['created', 'locked', 'finished']);
      }
    };

    it('cancel vs finish (cancel issued first): exactly one wins', async () => {
      await cancelVersusFinish(true);
    });

    it('cancel vs finish (finish issued first): exactly one wins', async () => {
      await cancelVersusFinish(false);
    });

    const unlockVersusExtend = async (unlockFirst: boolean): Promise<void> => {
      const topic = freshTopic();
      const held = await createHeld('worker-a', { topic });
      const release = () => unlock(held.id, 'worker-a');
      const prolong = () => extend(held.id, 'worker-a', 60_000);
      const [unlocked, extended] = unlockFirst
        ? await Promise.all([release(), prolong()])
        : await Promise.all([prolong(), release()]).then(([e, u]) => [u, e] as const);
      const final = await current(held.id);
      expect(final.state).to.equal('pending');
      if (extended.status === 'locked') {
        expect(unlocked.status).to.equal('ok');
        expect(taskOf(extended)).to.not.have.property('workerId');
        expect(typesFor(held.id)).to.deep.equal(['created', 'locked', 'unlocked']);
      } else {
        expect(extended.status).to.equal('ok');
        expect(unlocked.status).to.equal('ok');
        expect(typesFor(held.id)).to.deep.equal(['created', 'locked', 'extended', 'unlocked']);
      }
      expect(final).to.not.have.property('workerId');
      expect(final).to.not.have.property('lockExpirationTime');
      expect(ids(await claim('worker-b', 1, topic))).to.deep.equal([held.id]);
    };

    it('unlock vs extendLock (unlock issued first): consistent outcome', async () => {
      await unlockVersusExtend(true);
    });

    it('unlock vs extendLock (extend issued first): consistent outcome', async () => {
      await unlockVersusExtend(false);
    });

    const retryVersusCancel = async (cancelFirst: boolean): Promise<void> => {
      const topic = freshTopic();
      const held = await createHeld('worker-a', { topic, retries: 3 });
      const cancel = () => bed.repository.cancel({ externalTaskId: held.id });
      const retry = () => failService(held.id, 'worker-a', { retries: 2, retryTimeout: 100 });
      const [count, result] = cancelFirst
        ? await Promise.all([cancel(), retry()])
        : await Promise.all([retry(), cancel()]).then(([r, c]) => [c, r] as const);
      // Either order leaves a pending task for cancel: the retry keeps it pending.
      expect(count).to.equal(1);
      expect(['ok', 'gone']).to.include(result.status);
      if (result.status === 'gone') {
        expect(result.task.state).to.equal('cancelled');
        expect(typesFor(held.id)).to.deep.equal(['created', 'locked', 'cancelled']);
      } else {
        expect(typesFor(held.id)).to.deep.equal(['created', 'locked', 'retryScheduled', 'cancelled']);
      }
      expect((await current(held.id)).state).to.equal('cancelled');
      bed.clock.tick(100);
      expect(await claim('worker-b', 1, topic)).to.deep.equal([]);
      await expectCounts(topic, { cancelled: 1 });
    };

    it('complete-with-retry vs cancel (cancel issued first): the task ends cancelled', async () => {
      await retryVersusCancel(true);
    });

    it('complete-with-retry vs cancel (retry issued first): the task ends cancelled', async () => {
      await retryVersusCancel(false);
    });

    it('two cancels of the same process instance cancel each task exactly once', async () => {
      const topic = freshTopic();
      const processInstanceId = `lc-race-pi-${topic}`;
      const tasks = [
        await create({ topic, processInstanceId }),
        await create({ topic, processInstanceId }),
        await createHeld('worker-a', { topic, processInstanceId }),
      ];
      const [a, b] = await Promise.all([
        bed.repository.cancel({ processInstanceId }),
        bed.repository.cancel({ processInstanceId }),
      ]);
      expect(a + b).to.equal(3);
      expect(changesOf('cancelled').map((change) => change.task.id)).to.have.members(ids(tasks));
      await expectCounts(topic, { cancelled: 3 });
    });
  });
}
