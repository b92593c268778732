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
  const stub = <K extends keyof ExternalTaskRepository>() =>
    sinon.stub<Parameters<ExternalTaskRepository[K]>, ReturnType<ExternalTaskRepository[K]>>();
  return {
    create: stub<'create'>().rejects(new Error('not stubbed')),
    getById: stub<'getById'>().resolves(undefined),
    claim: stub<'claim'>().resolves([]),
    extendLock: stub<'extendLock'>().resolves({ status: 'not-found' }),
    unlock: stub<'unlock'>().resolves({ status: 'not-found' }),
    complete: stub<'complete'>().resolves({ status: 'not-found' }),
    cancel: stub<'cancel'>().resolves(0),
    setRetries: stub<'setRetries'>().rejects(new Error('not stubbed')),
    query: stub<'query'>().resolves({ tasks: [], total: 0 }),
    countByTopic: stub<'countByTopic'>().resolves([]),
    nextAvailableAt: stub<'nextAvailableAt'>().resolves(undefined),
    subscribe: stub<'subscribe'>().returns(() => undefined),
  };
}

/** How often the store was read or written (subscribing does not count), to assert it was left alone. */
export function storeCalls(repository: StubbedRepository): number {
  const { subscribe: _subscribe, ...operations } = repository;
  return Object.values(operations).reduce((sum, stub: sinon.SinonStub) => sum + stub.callCount, 0);
}
