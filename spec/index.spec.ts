import { expect } from 'chai';
import * as publicApi from '../lib/index.js';
import * as httpEntry from '../lib/http/index.js';
import * as repositoryEntry from '../lib/repository/index.js';
import * as testingEntry from '../lib/testing/index.js';

describe('the public API', () => {
  it('exports exactly these values (a change here is a change of the published contract)', () => {
    expect(Object.keys(publicApi).sort()).to.deep.equal([
      'BadRequestError',
      'BpmnError',
      'ChangeFeedRetentionError',
      'ContainedEventEmitter',
      'ExternalTaskApi',
      'ExternalTaskError',
      'ExternalTaskWorker',
      'ForbiddenError',
      'GoneError',
      'InMemoryExternalTaskRepository',
      'InternalError',
      'LockedError',
      'ManualClock',
      'NotFoundError',
      'TaskAbortedError',
      'UnauthorizedError',
      'WorkerHaltedError',
      'consoleLogger',
      'defaultFinalTaskRetention',
      'frozenRecord',
      'inScope',
      'limits',
      'subscriptionStart',
      'systemClock',
      'tokenAccessPolicy',
      'validateCancelSelector',
      'validateChangeSubscriber',
      'validateCountFilter',
      'validateFinalTaskSelector',
      'validateNewTask',
      'validateNewTasks',
      'validateQuery',
      'validateRequestShape',
      'validateScope',
      'validateSetPriority',
      'validateSetRetries',
      'validateTopicNames',
      'workerDefaults',
    ]);
  });

  it('exports exactly these values from external-task-api/testing', async () => {
    const testing = await import('../lib/testing/index.js');
    expect(Object.keys(testing).sort()).to.deep.equal([
      'ManualClock',
      'cancelledChange',
      'createStubRepository',
      'describeRepositoryContract',
      'failedChange',
      'finishedChange',
    ]);
  });

  it('exports exactly these values from external-task-api/repository', () => {
    expect(Object.keys(repositoryEntry).sort()).to.deep.equal([
      'frozenRecord',
      'inScope',
      'repositoryDefaults',
      'subscriptionStart',
      'validateCancelSelector',
      'validateChangeSubscriber',
      'validateConsumerLeaseRequest',
      'validateCountFilter',
      'validateFinalTaskSelector',
      'validateNewTask',
      'validateNewTasks',
      'validateQuery',
      'validateRequestShape',
      'validateScope',
      'validateSetPriority',
      'validateSetRetries',
      'validateTopicNames',
    ]);
  });

  it('keeps the names that moved to external-task-api/repository and /testing in the root, as the same objects', () => {
    // What the root had before the entry existed; the names added since are in the entry only.
    const addedSince = ['repositoryDefaults', 'validateConsumerLeaseRequest'];
    const moved = Object.keys(repositoryEntry).filter((name) => !addedSince.includes(name));
    for (const name of moved) {
      expect(publicApi[name as keyof typeof publicApi], name).to.equal(
        repositoryEntry[name as keyof typeof repositoryEntry],
      );
    }
    expect(publicApi.defaultFinalTaskRetention).to.equal(
      repositoryEntry.repositoryDefaults.finalTaskRetention,
    );
    expect(publicApi.ManualClock).to.equal(testingEntry.ManualClock);
  });

  it('exports exactly these values from external-task-api/http, the old error names as the same classes', () => {
    expect(Object.keys(httpEntry).sort()).to.deep.equal([
      'HttpClientTransportError',
      'HttpExternalTaskClient',
      'HttpRequestError',
      'HttpServerRefusalError',
      'HttpTransportError',
      'bearerToken',
      'camundaRestHandlerDefaults',
      'createCamundaRestHandler',
      'createHttpHandler',
      'httpHandlerDefaults',
      'openApiDocument',
      'tokenIdentity',
    ]);
    expect(httpEntry.HttpRequestError).to.equal(httpEntry.HttpServerRefusalError);
    expect(httpEntry.HttpTransportError).to.equal(httpEntry.HttpClientTransportError);
  });

  it('gives every error its status and stable code', () => {
    const errors = [
      [new publicApi.BadRequestError('x', 'bad'), 400, 'BAD_REQUEST'],
      [new publicApi.UnauthorizedError('who?'), 401, 'UNAUTHORIZED'],
      [new publicApi.ForbiddenError('no'), 403, 'FORBIDDEN'],
      [new publicApi.NotFoundError('id'), 404, 'TASK_NOT_FOUND'],
      [new publicApi.GoneError('id', 'finished'), 410, 'TASK_GONE'],
      [new publicApi.LockedError('id', 'w1', 'w2', undefined), 423, 'TASK_LOCKED'],
      [new publicApi.InternalError('oops'), 500, 'INTERNAL_ERROR'],
      [new publicApi.ChangeFeedRetentionError(3, 10), 410, 'CHANGE_FEED_RETENTION_EXCEEDED'],
    ] as const;
    for (const [error, status, code] of errors) {
      expect(error).to.be.instanceOf(publicApi.ExternalTaskError).and.instanceOf(Error);
      expect(error).to.include({ status, code, name: error.constructor.name });
    }
  });
});
