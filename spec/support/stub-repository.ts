import sinon from 'sinon';
import type { ExternalTaskRepository } from '../../lib/index.js';

/** Every method of the repository contract as a sinon stub, as users stub it in their own tests. */
export type StubbedRepository = {
  [K in keyof ExternalTaskRepository]: sinon.SinonStub<
    Parameters<ExternalTaskRepository[K]>,
    ReturnType<ExternalTaskRepository[K]>
  >;
};

/** A repository whose every method is a stub with a harmless default answer. */
export function stubRepository(): StubbedRepository {
  return {
    create: sinon
      .stub<Parameters<ExternalTaskRepository['create']>, ReturnType<ExternalTaskRepository['create']>>()
      .rejects(new Error('not stubbed')),
    getById: sinon
      .stub<Parameters<ExternalTaskRepository['getById']>, ReturnType<ExternalTaskRepository['getById']>>()
      .resolves(undefined),
    claim: sinon
      .stub<Parameters<ExternalTaskRepository['claim']>, ReturnType<ExternalTaskRepository['claim']>>()
      .resolves([]),
    extendLock: sinon
      .stub<
        Parameters<ExternalTaskRepository['extendLock']>,
        ReturnType<ExternalTaskRepository['extendLock']>
      >()
      .resolves({ status: 'not-found' }),
    complete: sinon
      .stub<Parameters<ExternalTaskRepository['complete']>, ReturnType<ExternalTaskRepository['complete']>>()
      .resolves({ status: 'not-found' }),
    nextAvailableAt: sinon
      .stub<
        Parameters<ExternalTaskRepository['nextAvailableAt']>,
        ReturnType<ExternalTaskRepository['nextAvailableAt']>
      >()
      .resolves(undefined),
    subscribe: sinon
      .stub<
        Parameters<ExternalTaskRepository['subscribe']>,
        ReturnType<ExternalTaskRepository['subscribe']>
      >()
      .returns(() => undefined),
  };
}

/** How often the store was read or written (subscribing does not count), to assert it was left alone. */
export function storeCalls(repository: StubbedRepository): number {
  const { subscribe: _subscribe, ...operations } = repository;
  return Object.values(operations).reduce((sum, stub: sinon.SinonStub) => sum + stub.callCount, 0);
}
