import { expect } from 'chai';
import sinon from 'sinon';
import {
  BadRequestError,
  ExternalTaskApi,
  ExternalTaskError,
  ForbiddenError,
  GoneError,
  InternalError,
  LockedError,
  NotFoundError,
  UnauthorizedError,
  type AccessPolicy,
  type ExternalTask,
  type Identity,
  type Logger,
} from '../../lib/index.js';
import { identity, rejectionOf, startTime, taskRecord } from '../support/fixtures.js';
import { createStubRepository, type StubRepository } from '../../lib/testing/stub-repository.js';
import { storeCalls } from '../support/stub-call-count.js';

const taskId = '6f1c1f9e-2a53-4c39-9a0b-8f0a7f3b2a10';

function record(overrides: Partial<ExternalTask> = {}): ExternalTask {
  return taskRecord({ id: taskId, ...overrides });
}

async function rejection(promise: Promise<unknown>): Promise<ExternalTaskError> {
  const error = await rejectionOf(promise);
  expect(error, 'the call should have been refused with a typed error').to.be.instanceOf(ExternalTaskError);
  return error as ExternalTaskError;
}

describe('ExternalTaskApi (against a stubbed repository)', () => {
  let repository: StubRepository;
  let logger: { error: sinon.SinonStub; warn: sinon.SinonStub };
  let api: ExternalTaskApi;

  beforeEach(() => {
    repository = createStubRepository();
    logger = { error: sinon.stub(), warn: sinon.stub() };
    api = new ExternalTaskApi({ repository, logger: logger satisfies Logger });
  });

  afterEach(() => api.close());

  describe('fetchAndLockExternalTasks', () => {
    it('claims through the repository with the positional arguments, and returns its tasks', async () => {
      const tasks = [record({ workerId: 'w1' })];
      repository.claim.resolves(tasks);
      expect(await api.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 7, 0, 1500)).to.equal(tasks);
      expect(repository.claim.firstCall.args[0]).to.deep.equal({
        workerId: 'w1',
        topics: [{ topicName: 'invoice', lockDuration: 1500 }],
        maxTasks: 7,
      });
    });

    it('hands the access policy’s scope for the identity to the repository, as data', async () => {
      const scope = sinon.stub().resolves({ tenantIds: ['acme'], processModelIds: ['billing'] });
      const scopedApi = new ExternalTaskApi({
        repository,
        accessPolicy: { authorize: () => undefined, scope },
      });
      await scopedApi.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 1, 0, 10);
      expect(repository.claim.firstCall.args[0].scope).to.deep.equal({
        tenantIds: ['acme'],
        processModelIds: ['billing'],
      });
      expect(scope.firstCall.args).to.deep.equal([identity]);
      await scopedApi.close();
    });
  });

  describe('conditional writes map to typed errors', () => {
    const operations: [string, () => Promise<void>][] = [
      ['extendLock', () => api.extendLock(identity, 'w1', taskId, 1000)],
      ['finishExternalTask', () => api.finishExternalTask(identity, 'w1', taskId, { ok: true })],
      ['handleBpmnError', () => api.handleBpmnError(identity, 'w1', taskId, 'E_CODE', 'message')],
      ['handleServiceError', () => api.handleServiceError(identity, 'w1', taskId, 'boom', { retry: false })],
      ['handleSystemError', () => api.handleSystemError(identity, 'w1', taskId, 'boom')],
    ];

    for (const [name, call] of operations) {
      describe(name, () => {
        it('resolves when the write happened', async () => {
          const written = { status: 'ok' as const, task: record() };
          repository.extendLock.resolves(written);
          repository.complete.resolves(written);
          await call();
        });

        it('404 NotFoundError for an unknown task', async () => {
          const error = await rejection(call());
          expect(error).to.be.instanceOf(NotFoundError);
          expect(error).to.include({ status: 404, code: 'TASK_NOT_FOUND', externalTaskId: taskId });
        });

        it('410 GoneError for a task that is final', async () => {
          const gone = { status: 'gone' as const, task: record({ state: 'failed' }) };
          repository.extendLock.resolves(gone);
          repository.complete.resolves(gone);
          const error = await rejection(call());
          expect(error).to.be.instanceOf(GoneError);
          expect(error).to.include({
            status: 410,
            code: 'TASK_GONE',
            externalTaskId: taskId,
            state: 'failed',
          });
        });

        it('423 LockedError naming the worker that holds the task and until when', async () => {
          const until = new Date(startTime + 5000);
          const locked = {
            status: 'locked' as const,
            task: record({ workerId: 'w2', lockExpirationTime: until }),
          };
          repository.extendLock.resolves(locked);
          repository.complete.resolves(locked);
          const error = await rejection(call());
          expect(error).to.be.instanceOf(LockedError);
          expect(error).to.include({ status: 423, code: 'TASK_LOCKED', workerId: 'w1', lockedBy: 'w2' });
          expect((error as LockedError).lockExpirationTime).to.deep.equal(until);
          expect(error.message).to.contain('w2').and.contain(until.toISOString());
        });

        it('423 LockedError without a holder for a task never locked', async () => {
          const locked = { status: 'locked' as const, task: record() };
          repository.extendLock.resolves(locked);
          repository.complete.resolves(locked);
          const error = await rejection(call());
          expect(error).to.include({ status: 423, lockedBy: undefined });
        });

        it('500 InternalError carrying the cause when the store fails, and logs it', async () => {
          const failure = new Error('connection lost');
          repository.extendLock.rejects(failure);
          repository.complete.rejects(failure);
          const error = await rejection(call());
          expect(error).to.be.instanceOf(InternalError);
          expect(error).to.include({ status: 500, code: 'INTERNAL_ERROR' });
          expect(error.cause).to.equal(failure);
          expect(logger.error.calledOnce).to.equal(true);
        });
      });
    }
  });

  describe('writes the outcome the worker reported', () => {
    beforeEach(() => {
      repository.complete.resolves({ status: 'ok', task: record() });
    });

    it('finish: the result as a frozen copy', async () => {
      const result = { items: [1, 2], nested: { a: 'b' } };
      await api.finishExternalTask(identity, 'w1', taskId, result);
      const { outcome } = repository.complete.firstCall.args[0];
      expect(outcome).to.deep.equal({ state: 'finished', result });
      expect(outcome.state === 'finished' && outcome.result).to.not.equal(result);
      expect(Object.isFrozen(outcome.state === 'finished' && outcome.result)).to.equal(true);
    });

    it('finish: falsy results are results; undefined is none', async () => {
      for (const result of [0, '', false, null]) {
        await api.finishExternalTask(identity, 'w1', taskId, result);
        expect(repository.complete.lastCall.args[0].outcome).to.deep.equal({ state: 'finished', result });
      }
      await api.finishExternalTask(identity, 'w1', taskId, undefined);
      expect(repository.complete.lastCall.args[0].outcome).to.deep.equal({ state: 'finished' });
    });

    it('BPMN error: the code and the optional message', async () => {
      await api.handleBpmnError(identity, 'w1', taskId, 'E_NO_STOCK');
      await api.handleBpmnError(identity, 'w1', taskId, 'E_NO_STOCK', 'sold out');
      expect(repository.complete.getCalls().map((call) => call.args[0].outcome)).to.deep.equal([
        { state: 'failed', error: { type: 'bpmn', errorCode: 'E_NO_STOCK' } },
        { state: 'failed', error: { type: 'bpmn', errorCode: 'E_NO_STOCK', errorMessage: 'sold out' } },
      ]);
    });

    it('service error (and its alias, system error): the message and the optional details', async () => {
      await api.handleServiceError(identity, 'w1', taskId, 'timeout', { attempt: 3 });
      await api.handleSystemError(identity, 'w1', taskId, 'timeout');
      expect(repository.complete.getCalls().map((call) => call.args[0].outcome)).to.deep.equal([
        {
          state: 'failed',
          error: { type: 'service', errorMessage: 'timeout', errorDetails: { attempt: 3 } },
        },
        { state: 'failed', error: { type: 'service', errorMessage: 'timeout' } },
      ]);
    });

    it('extendLock: the additional duration, counted by the repository from now', async () => {
      repository.extendLock.resolves({ status: 'ok', task: record() });
      await api.extendLock(identity, 'w1', taskId, 2500);
      expect(repository.extendLock.firstCall.args[0]).to.deep.equal({
        workerId: 'w1',
        externalTaskId: taskId,
        lockDuration: 2500,
      });
    });
  });

  describe('bad arguments: 400 naming the argument, and the store is left alone', () => {
    const long = 'x'.repeat(256);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const cases: [string, string, () => Promise<unknown>][] = [
      ['workerId', 'empty', () => api.fetchAndLockExternalTasks(identity, '', 'invoice', 1, 0, 10)],
      ['workerId', 'oversized', () => api.fetchAndLockExternalTasks(identity, long, 'invoice', 1, 0, 10)],
      [
        'topicName',
        'missing',
        () => api.fetchAndLockExternalTasks(identity, 'w1', undefined as unknown as string, 1, 0, 10),
      ],
      ['topicName', 'oversized', () => api.fetchAndLockExternalTasks(identity, 'w1', long, 1, 0, 10)],
      ['maxTasks', '0', () => api.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 0, 0, 10)],
      ['maxTasks', '1001', () => api.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 1001, 0, 10)],
      ['maxTasks', 'fractional', () => api.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 1.5, 0, 10)],
      [
        'maxTasks',
        'a string',
        () => api.fetchAndLockExternalTasks(identity, 'w1', 'invoice', '5' as unknown as number, 0, 10),
      ],
      [
        'longPollingTimeout',
        'NaN',
        () => api.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 1, NaN, 10),
      ],
      ['lockDuration', '0', () => api.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 1, 0, 0)],
      [
        'lockDuration',
        'Infinity',
        () => api.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 1, 0, Infinity),
      ],
      ['lockDuration', '2^31', () => api.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 1, 0, 2 ** 31)],
      ['topics', 'empty', () => api.fetchAndLock(identity, { workerId: 'w1', topics: [], maxTasks: 1 })],
      [
        'topics[1].topicName',
        'repeated',
        () =>
          api.fetchAndLock(identity, {
            workerId: 'w1',
            topics: [
              { topicName: 'a', lockDuration: 1 },
              { topicName: 'a', lockDuration: 2 },
            ],
            maxTasks: 1,
          }),
      ],
      [
        'topics[0].lockDuration',
        'negative',
        () =>
          api.fetchAndLock(identity, {
            workerId: 'w1',
            topics: [{ topicName: 'a', lockDuration: -5 }],
            maxTasks: 1,
          }),
      ],
      [
        'signal',
        'not an AbortSignal',
        () =>
          api.fetchAndLock(identity, {
            workerId: 'w1',
            topics: [{ topicName: 'a', lockDuration: 5 }],
            maxTasks: 1,
            signal: {} as AbortSignal,
          }),
      ],
      ['externalTaskId', 'empty', () => api.extendLock(identity, 'w1', '', 10)],
      ['additionalDuration', 'negative', () => api.extendLock(identity, 'w1', taskId, -1)],
      ['additionalDuration', 'fractional', () => api.extendLock(identity, 'w1', taskId, 0.5)],
      [
        'workerId',
        'not a string',
        () => api.finishExternalTask(identity, 42 as unknown as string, taskId, null),
      ],
      ['result', 'a function', () => api.finishExternalTask(identity, 'w1', taskId, () => 1)],
      ['result.self', 'cyclic', () => api.finishExternalTask(identity, 'w1', taskId, cyclic)],
      [
        'result.at',
        'a Date inside',
        () => api.finishExternalTask(identity, 'w1', taskId, { at: new Date() }),
      ],
      ['result', 'over 1 MiB', () => api.finishExternalTask(identity, 'w1', taskId, 'x'.repeat(1024 * 1024))],
      ['errorCode', 'empty', () => api.handleBpmnError(identity, 'w1', taskId, '')],
      [
        'errorMessage',
        'not a string',
        () => api.handleBpmnError(identity, 'w1', taskId, 'E', 5 as unknown as string),
      ],
      [
        'errorMessage',
        'missing',
        () => api.handleServiceError(identity, 'w1', taskId, undefined as unknown as string),
      ],
      [
        'errorMessage',
        'over 10,000 characters',
        () => api.handleServiceError(identity, 'w1', taskId, 'm'.repeat(10_001)),
      ],
      [
        'errorDetails[0]',
        'undefined in an array',
        () => api.handleServiceError(identity, 'w1', taskId, 'm', [undefined]),
      ],
      [
        'errorMessage',
        'holding a NUL character',
        () => api.handleServiceError(identity, 'w1', taskId, 'disk \u0000 full'),
      ],
      [
        'errorDetails.trace[1]',
        'holding a NUL character',
        () => api.handleServiceError(identity, 'w1', taskId, 'm', { trace: ['a', 'b\u0000'] }),
      ],
      [
        'errorDetails.\ud800',
        'a key with an unpaired surrogate',
        () => api.handleServiceError(identity, 'w1', taskId, 'm', { '\ud800': 1 }),
      ],
      ['errorCode', 'holding a NUL character', () => api.handleBpmnError(identity, 'w1', taskId, 'E\u0000')],
    ];

    for (const [argument, what, call] of cases) {
      it(`${argument}: ${what}`, async () => {
        const error = await rejection(call());
        expect(error).to.be.instanceOf(BadRequestError);
        expect(error).to.include({ status: 400, code: 'BAD_REQUEST', argument });
        expect(storeCalls(repository)).to.equal(0);
      });
    }
  });

  describe('access', () => {
    it('the default policy answers 401 without a non-empty string token, before touching the store', async () => {
      const identities = [undefined, {}, { token: '' }, { token: 42 }, null] as unknown as (
        Identity | undefined
      )[];
      for (const caller of identities) {
        const error = await rejection(api.finishExternalTask(caller, 'w1', taskId, null));
        expect(error).to.be.instanceOf(UnauthorizedError);
        expect(error).to.include({ status: 401, code: 'UNAUTHORIZED' });
      }
      expect(storeCalls(repository)).to.equal(0);
    });

    it('authorizes before validating, so an unauthenticated caller learns nothing about its arguments', async () => {
      const error = await rejection(api.fetchAndLockExternalTasks(undefined, '', '', 0, -1, 0));
      expect(error).to.be.instanceOf(UnauthorizedError);
    });

    it('a custom policy sees the operation and its target, and its 403 reaches the caller untouched', async () => {
      const authorize = sinon.stub<Parameters<AccessPolicy['authorize']>, void>().callsFake((caller) => {
        if (caller?.['canAccessExternalTasks'] !== true)
          throw new ForbiddenError('no access to external tasks');
      });
      const guarded = new ExternalTaskApi({ repository, accessPolicy: { authorize } });
      const error = await rejection(guarded.handleBpmnError(identity, 'w1', taskId, 'E'));
      expect(error).to.be.instanceOf(ForbiddenError);
      expect(error).to.include({ status: 403, code: 'FORBIDDEN' });
      expect(authorize.firstCall.args[1]).to.deep.equal({
        operation: 'handleBpmnError',
        workerId: 'w1',
        externalTaskId: taskId,
      });
      await guarded.fetchAndLockExternalTasks(
        { token: 't', canAccessExternalTasks: true },
        'w1',
        'invoice',
        1,
        0,
        10,
      );
      expect(authorize.secondCall.args[1]).to.deep.equal({
        operation: 'fetchAndLock',
        workerId: 'w1',
        topicNames: ['invoice'],
      });
      expect(repository.complete.callCount).to.equal(0);
      await guarded.close();
    });

    it('an asynchronous policy is awaited before anything is read', async () => {
      let allow: () => void = () => undefined;
      const guarded = new ExternalTaskApi({
        repository,
        accessPolicy: { authorize: () => new Promise<void>((resolve) => (allow = resolve)) },
      });
      const pending = guarded.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 1, 0, 10);
      await Promise.resolve();
      expect(repository.claim.callCount).to.equal(0);
      allow();
      await pending;
      expect(repository.claim.callCount).to.equal(1);
      await guarded.close();
    });

    it('hands the scope to every conditional write too', async () => {
      const guarded = new ExternalTaskApi({
        repository,
        accessPolicy: { authorize: () => undefined, scope: () => ({ tenantIds: ['acme'] }) },
      });
      await guarded.extendLock(identity, 'w1', taskId, 10).catch(() => undefined);
      await guarded.finishExternalTask(identity, 'w1', taskId, 1).catch(() => undefined);
      await guarded.unlock(identity, 'w1', taskId).catch(() => undefined);
      expect(repository.extendLock.firstCall.args[0].scope).to.deep.equal({ tenantIds: ['acme'] });
      expect(repository.complete.firstCall.args[0].scope).to.deep.equal({ tenantIds: ['acme'] });
      expect(repository.unlock.firstCall.args[0].scope).to.deep.equal({ tenantIds: ['acme'] });
      await guarded.close();
    });

    it('answers 500 and writes nothing when the policy’s scope throws or is malformed', async () => {
      for (const scope of [
        () => {
          throw new Error('policy bug');
        },
        () => ({ tenantIds: 'acme' }) as never,
        () => ({ processModelIds: [''] }),
      ]) {
        const guarded = new ExternalTaskApi({
          repository,
          logger,
          accessPolicy: { authorize: () => undefined, scope },
        });
        const error = await rejection(guarded.extendLock(identity, 'w1', taskId, 10));
        expect(error).to.be.instanceOf(InternalError);
        expect(error.code).to.equal('INTERNAL_ERROR');
        await guarded.close();
      }
      expect(storeCalls(repository)).to.equal(0);
    });
  });

  it('refuses to be built without a repository', () => {
    expect(() => new ExternalTaskApi({} as never)).to.throw(TypeError, /repository/);
  });

  it('refuses a repository passed where the options belong, pointing at { repository }', () => {
    expect(() => new ExternalTaskApi(repository as never)).to.throw(TypeError, /\{ repository \}/);
  });

  it('refuses a repository that lacks methods, naming each missing one', () => {
    const { msUntilNextAvailable: _a, currentPosition: _b, ...partial } = repository;
    expect(() => new ExternalTaskApi({ repository: partial as never })).to.throw(
      TypeError,
      /lacks msUntilNextAvailable, currentPosition/,
    );
  });

  it('close() closes its change feed and availability watch once, and is safe to call twice', async () => {
    const feedClose = sinon.stub().resolves();
    const watchClose = sinon.stub().resolves();
    repository.subscribe.resolves({ position: 0, close: feedClose });
    repository.watchAvailability.resolves({ close: watchClose });
    const closing = new ExternalTaskApi({ repository });
    const first = closing.close();
    const second = closing.close();
    expect(second).to.equal(first);
    await first;
    expect(feedClose.calledOnce).to.equal(true);
    expect(watchClose.calledOnce).to.equal(true);
    expect(closing.isClosed).to.equal(true);
  });
});
