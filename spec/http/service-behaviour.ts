import { expect } from 'chai';
import {
  BadRequestError,
  ExternalTaskError,
  ForbiddenError,
  GoneError,
  LockedError,
  NotFoundError,
  UnauthorizedError,
  type ExternalTask,
} from '../../lib/index.js';
import { identity, newTask, rejectionOf } from '../support/fixtures.js';
import type { Transport, TransportBed, TransportOptions } from './transports.js';

const minute = 60_000;
const unknownId = '00000000-0000-4000-8000-000000000000';

/** Registers hooks giving each test of the calling `describe` a fresh stack of `transport`. */
export function useTransport(transport: Transport, options?: TransportOptions): TransportBed {
  const bed = {} as { -readonly [K in keyof TransportBed]: TransportBed[K] };
  beforeEach(async () => Object.assign(bed, await transport.start(options)));
  afterEach(() => bed.close());
  return bed;
}

async function refusal(promise: Promise<unknown>): Promise<ExternalTaskError> {
  const error = await rejectionOf(promise);
  expect(error, 'a typed refusal').to.be.instanceOf(ExternalTaskError);
  return error as ExternalTaskError;
}

/**
 * The worker-facing behaviour of an {@link ExternalTaskService} (spec §3 and §7), through `transport`:
 * what a worker sees must not depend on whether the api is in its process or behind HTTP. Real time,
 * short waits; nothing sleeps.
 */
export function describeServiceBehaviour(transport: Transport): void {
  describe(`ExternalTaskService behaviour ${transport.name}`, () => {
    const bed = useTransport(transport);

    async function held(workerId = 'w1', topic = 'invoice'): Promise<ExternalTask> {
      await bed.repository.create(newTask(topic));
      const [task] = await bed.service.fetchAndLockExternalTasks(identity, workerId, topic, 1, 0, minute);
      expect(task, 'a task was claimed').to.not.equal(undefined);
      return task!;
    }

    describe('fetch and lock', () => {
      it('claims an available task for the worker, with its lock as a Date', async () => {
        const { id } = await bed.repository.create(newTask('invoice', { payload: { amount: 12 } }));
        const before = Date.now();
        const tasks = await bed.service.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 5, 0, minute);
        expect(tasks.map((task) => [task.id, task.workerId, task.state])).to.deep.equal([
          [id, 'w1', 'pending'],
        ]);
        expect(tasks[0]!.payload).to.deep.equal({ amount: 12 });
        expect(tasks[0]!.lockExpirationTime).to.be.instanceOf(Date);
        expect(tasks[0]!.lockExpirationTime!.getTime()).to.be.at.least(before + minute);
        expect(tasks[0]!.createdAt).to.be.instanceOf(Date);
        expect((await bed.repository.getById(id))?.workerId).to.equal('w1');
      });

      it('waits for a task and answers as soon as one is created', async () => {
        const poll = bed.service.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 1, 15_000, minute);
        const { id } = await bed.repository.create(newTask('invoice'));
        expect((await poll).map((task) => task.id)).to.deep.equal([id]);
      });

      it('answers [] when its long-polling timeout runs out', async () => {
        expect(
          await bed.service.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 1, 30, minute),
        ).to.deep.equal([]);
      });

      it('claims across several topics in one call, each with its lock duration', async () => {
        await bed.repository.create(newTask('invoice'));
        await bed.repository.create(newTask('archive'));
        const before = Date.now();
        const tasks = await bed.service.fetchAndLock(identity, {
          workerId: 'w1',
          topics: [
            { topicName: 'invoice', lockDuration: minute },
            { topicName: 'archive', lockDuration: 10 * minute },
          ],
          maxTasks: 10,
        });
        const locks = Object.fromEntries(
          tasks.map((task) => [task.topic, task.lockExpirationTime!.getTime() - before]),
        );
        expect(Object.keys(locks).sort()).to.deep.equal(['archive', 'invoice']);
        expect(locks.archive)
          .to.be.at.least(10 * minute)
          .and.below(11 * minute);
        expect(locks.invoice)
          .to.be.at.least(minute)
          .and.below(2 * minute);
      });

      it('an aborted poll answers [] at once, and a later task goes to a poll still waiting', async () => {
        const controller = new AbortController();
        const options = { topics: [{ topicName: 'invoice', lockDuration: minute }], maxTasks: 1 };
        const aborted = bed.service.fetchAndLock(identity, {
          ...options,
          workerId: 'w1',
          longPollingTimeout: 15_000,
          signal: controller.signal,
        });
        const waiting = bed.service.fetchAndLock(identity, {
          ...options,
          workerId: 'w2',
          longPollingTimeout: 15_000,
        });
        controller.abort();
        expect(await aborted).to.deep.equal([]);
        const { id } = await bed.repository.create(newTask('invoice'));
        expect((await waiting).map((task) => [task.id, task.workerId])).to.deep.equal([[id, 'w2']]);
      });
    });

    describe('outcomes', () => {
      it('finish: the task is finished with its result and the engine hears it', async () => {
        const task = await held();
        const outcome = bed.api.waitForOutcome(task.id);
        await bed.service.finishExternalTask(identity, 'w1', task.id, {
          sent: true,
          items: [1, 'two', null],
        });
        expect(await outcome).to.deep.include({
          state: 'finished',
          result: { sent: true, items: [1, 'two', null] },
        });
      });

      it('finish without a result', async () => {
        const task = await held();
        await bed.service.finishExternalTask(identity, 'w1', task.id, undefined);
        const stored = await bed.repository.getById(task.id);
        expect(stored?.state).to.equal('finished');
        expect(stored?.result).to.equal(undefined);
      });

      it('a BPMN error fails the task with its code and message', async () => {
        const task = await held();
        await bed.service.handleBpmnError(identity, 'w1', task.id, 'NEEDS_APPROVAL', 'over the limit');
        expect((await bed.repository.getById(task.id))?.error).to.deep.equal({
          type: 'bpmn',
          errorCode: 'NEEDS_APPROVAL',
          errorMessage: 'over the limit',
        });
      });

      it('a service error fails the task with its message and details', async () => {
        const task = await held();
        await bed.service.handleServiceError(identity, 'w1', task.id, 'smtp down', { code: 421 });
        const stored = await bed.repository.getById(task.id);
        expect(stored?.state).to.equal('failed');
        expect(stored?.error).to.deep.equal({
          type: 'service',
          errorMessage: 'smtp down',
          errorDetails: { code: 421 },
        });
      });

      it('a service error with retries returns the task to pending, due after retryTimeout', async () => {
        const task = await held();
        const before = Date.now();
        await bed.service.handleServiceError(identity, 'w1', task.id, 'smtp down', undefined, {
          retries: 2,
          retryTimeout: minute,
        });
        const stored = await bed.repository.getById(task.id);
        expect(stored).to.include({ state: 'pending', retries: 2 });
        expect(stored?.retryAt?.getTime()).to.be.at.least(before + minute);
      });

      it('extendLock sets the lock to now + additionalDuration', async () => {
        const task = await held();
        const before = Date.now();
        await bed.service.extendLock(identity, 'w1', task.id, 10 * minute);
        const lock = (await bed.repository.getById(task.id))?.lockExpirationTime?.getTime();
        expect(lock)
          .to.be.at.least(before + 10 * minute)
          .and.below(before + 11 * minute);
      });

      it('unlock hands the task to another worker at once', async () => {
        const task = await held();
        await bed.service.unlock(identity, 'w1', task.id);
        const [again] = await bed.service.fetchAndLockExternalTasks(identity, 'w2', 'invoice', 1, 0, minute);
        expect(again?.id).to.equal(task.id);
      });

      it('of two concurrent outcomes one wins and the other gets 410', async () => {
        const task = await held();
        const results = await Promise.allSettled([
          bed.service.finishExternalTask(identity, 'w1', task.id, 'a'),
          bed.service.handleBpmnError(identity, 'w1', task.id, 'E'),
        ]);
        expect(results.filter((result) => result.status === 'fulfilled')).to.have.length(1);
        const [rejected] = results.filter((result) => result.status === 'rejected');
        expect(rejected?.reason).to.be.instanceOf(GoneError);
      });
    });

    describe('refusals arrive as the same typed errors', () => {
      it('404 NotFoundError for an unknown task', async () => {
        const error = await refusal(bed.service.finishExternalTask(identity, 'w1', unknownId, null));
        expect(error).to.be.instanceOf(NotFoundError);
        expect(error).to.include({ status: 404, code: 'TASK_NOT_FOUND', externalTaskId: unknownId });
      });

      it('410 GoneError, with the final state, for a finished task', async () => {
        const task = await held();
        await bed.service.finishExternalTask(identity, 'w1', task.id, null);
        const error = await refusal(bed.service.extendLock(identity, 'w1', task.id, minute));
        expect(error).to.be.instanceOf(GoneError);
        expect(error).to.include({
          status: 410,
          code: 'TASK_GONE',
          externalTaskId: task.id,
          state: 'finished',
        });
      });

      it('423 LockedError naming the holder and its lock for another worker', async () => {
        const task = await held('w1');
        const error = await refusal(bed.service.handleServiceError(identity, 'w2', task.id, 'boom'));
        expect(error).to.be.instanceOf(LockedError);
        expect(error).to.include({ status: 423, code: 'TASK_LOCKED', workerId: 'w2', lockedBy: 'w1' });
        expect((error as LockedError).lockExpirationTime).to.deep.equal(task.lockExpirationTime);
      });

      const badCalls: [string, string, (bed: TransportBed, id: string) => Promise<unknown>][] = [
        [
          'maxTasks',
          'maxTasks',
          (b) => b.service.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 0, 0, minute),
        ],
        [
          'lockDuration',
          'lockDuration',
          (b) => b.service.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 1, 0, -5),
        ],
        [
          'topicName',
          'topicName',
          (b) => b.service.fetchAndLockExternalTasks(identity, 'w1', '', 1, 0, minute),
        ],
        [
          'a long-polling timeout beyond 30 minutes',
          'longPollingTimeout',
          (b) => b.service.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 1, 31 * minute, minute),
        ],
        [
          'a topic listed twice',
          'topics[1].topicName',
          (b) =>
            b.service.fetchAndLock(identity, {
              workerId: 'w1',
              maxTasks: 1,
              topics: [
                { topicName: 'invoice', lockDuration: 10 },
                { topicName: 'invoice', lockDuration: 10 },
              ],
            }),
        ],
        ['workerId', 'workerId', (b, id) => b.service.extendLock(identity, '', id, minute)],
        [
          'additionalDuration',
          'additionalDuration',
          (b, id) => b.service.extendLock(identity, 'w1', id, 1.5),
        ],
        [
          'a result that is not JSON',
          'result.n',
          (b, id) => b.service.finishExternalTask(identity, 'w1', id, { n: 1n }),
        ],
        ['errorCode', 'errorCode', (b, id) => b.service.handleBpmnError(identity, 'w1', id, '')],
        ['errorMessage', 'errorMessage', (b, id) => b.service.handleServiceError(identity, 'w1', id, '')],
        [
          'options.retries',
          'options.retries',
          (b, id) => b.service.handleServiceError(identity, 'w1', id, 'boom', undefined, { retries: -1 }),
        ],
        [
          'options.retryTimeout without retries',
          'options.retries',
          (b, id) => b.service.handleServiceError(identity, 'w1', id, 'boom', undefined, { retryTimeout: 5 }),
        ],
        [
          'service error options that are no object',
          'options',
          (b, id) => b.service.handleServiceError(identity, 'w1', id, 'boom', undefined, null as never),
        ],
        [
          'fetch options that are no object',
          'options',
          (b) => b.service.fetchAndLock(identity, null as never),
        ],
        [
          'a fetch without topics',
          'topics',
          (b) => b.service.fetchAndLock(identity, { workerId: 'w1', maxTasks: 1 } as never),
        ],
        [
          'a fetch signal that is no AbortSignal',
          'signal',
          (b) =>
            b.service.fetchAndLock(identity, {
              workerId: 'w1',
              maxTasks: 1,
              topics: [{ topicName: 'invoice', lockDuration: 10 }],
              signal: 'abort' as never,
            }),
        ],
        ['an empty task id', 'externalTaskId', (b) => b.service.unlock(identity, 'w1', '')],
        [
          'a task id that is no string',
          'externalTaskId',
          (b) => b.service.unlock(identity, 'w1', 7 as never),
        ],
      ];
      for (const [what, argument, call] of badCalls) {
        it(`400 BadRequestError naming ${argument} for ${what}, and nothing changes`, async () => {
          const task = await held();
          const error = await refusal(call(bed, task.id));
          expect(error).to.be.instanceOf(BadRequestError);
          expect(error).to.include({ status: 400, code: 'BAD_REQUEST', argument });
          expect(await bed.repository.getById(task.id)).to.deep.include({ state: 'pending', workerId: 'w1' });
        });
      }

      it('401 UnauthorizedError without a token', async () => {
        const error = await refusal(
          bed.service.fetchAndLockExternalTasks(undefined, 'w1', 'invoice', 1, 0, minute),
        );
        expect(error).to.be.instanceOf(UnauthorizedError);
        expect(error).to.include({ status: 401, code: 'UNAUTHORIZED' });
      });
    });

    describe('with an access policy', () => {
      const guarded = useTransport(transport, {
        accessPolicy: {
          authorize(caller) {
            if (caller?.token === undefined) throw new UnauthorizedError('no token');
            if (caller.token !== 'worker') throw new ForbiddenError(`token ${caller.token} may not work`);
          },
        },
      });

      it('403 ForbiddenError when the policy refuses the identity', async () => {
        const error = await refusal(
          guarded.service.fetchAndLockExternalTasks({ token: 'reader' }, 'w1', 'invoice', 1, 0, minute),
        );
        expect(error).to.be.instanceOf(ForbiddenError);
        expect(error).to.include({ status: 403, code: 'FORBIDDEN' });
      });

      it('the policy sees the identity the token stands for', async () => {
        await guarded.repository.create(newTask('invoice'));
        const tasks = await guarded.service.fetchAndLockExternalTasks(
          { token: 'worker' },
          'w1',
          'invoice',
          1,
          0,
          minute,
        );
        expect(tasks).to.have.length(1);
      });
    });
  });
}
