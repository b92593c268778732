import { expect } from 'chai';
import { expectTypeOf } from 'expect-type';
import {
  ExternalTaskApi,
  type AccessPolicy,
  InMemoryExternalTaskRepository,
  type BackoffOptions,
  type ConsumeOutcomesAfterOptions,
  type ConsumeOutcomesOptions,
  type ExternalTaskApiOptions,
  type ExternalTaskQuery,
  type ExternalTaskWorkerOptions,
  type FetchAndLockOptions,
  type Identity,
  type InMemoryExternalTaskRepositoryOptions,
  type NamedConsumeOutcomesOptions,
  type NewExternalTask,
  type OutcomeRetryOptions,
  type RetryPolicyOptions,
  type ServiceErrorOptions,
  type TaskCountFilter,
  type TaskScope,
  type WaitForOutcomeOptions,
} from 'external-task-api';
import type { PostgresExternalTaskRepositoryOptions } from 'external-task-api/postgres';

/** The keys of `T` that may be left out. */
type OptionalKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? K : never }[keyof T];

/**
 * `T` with every optional property given explicitly as `undefined`: under `exactOptionalPropertyTypes`
 * (on in this project) it extends `T` only where each optional property is declared `| undefined`.
 */
type ExplicitlyUndefined<T> = Omit<T, OptionalKeys<T>> & { readonly [K in OptionalKeys<T>]: undefined };

// The type checker runs these (`npm run typecheck`, part of `npm run lint`); mocha runs the rest.
describe('public option types under exactOptionalPropertyTypes', () => {
  it('accept every optional property given as undefined, at compile time', () => {
    expectTypeOf<ExplicitlyUndefined<NewExternalTask>>().toExtend<NewExternalTask>();
    expectTypeOf<ExplicitlyUndefined<ExternalTaskQuery>>().toExtend<ExternalTaskQuery>();
    expectTypeOf<ExplicitlyUndefined<TaskCountFilter>>().toExtend<TaskCountFilter>();
    expectTypeOf<ExplicitlyUndefined<TaskScope>>().toExtend<TaskScope>();
    expectTypeOf<ExplicitlyUndefined<Identity>>().toExtend<Identity>();
    expectTypeOf<ExplicitlyUndefined<FetchAndLockOptions>>().toExtend<FetchAndLockOptions>();
    expectTypeOf<ExplicitlyUndefined<ServiceErrorOptions>>().toExtend<ServiceErrorOptions>();
    expectTypeOf<ExplicitlyUndefined<WaitForOutcomeOptions>>().toExtend<WaitForOutcomeOptions>();
    expectTypeOf<ExplicitlyUndefined<ExternalTaskApiOptions>>().toExtend<ExternalTaskApiOptions>();
    expectTypeOf<ExplicitlyUndefined<ConsumeOutcomesAfterOptions>>().toExtend<ConsumeOutcomesOptions>();
    expectTypeOf<ExplicitlyUndefined<NamedConsumeOutcomesOptions>>().toExtend<ConsumeOutcomesOptions>();
    expectTypeOf<ExplicitlyUndefined<OutcomeRetryOptions>>().toExtend<OutcomeRetryOptions>();
    expectTypeOf<ExplicitlyUndefined<ExternalTaskWorkerOptions>>().toExtend<ExternalTaskWorkerOptions>();
    expectTypeOf<ExplicitlyUndefined<BackoffOptions>>().toExtend<BackoffOptions>();
    expectTypeOf<ExplicitlyUndefined<RetryPolicyOptions>>().toExtend<RetryPolicyOptions>();
    expectTypeOf<
      ExplicitlyUndefined<InMemoryExternalTaskRepositoryOptions>
    >().toExtend<InMemoryExternalTaskRepositoryOptions>();
    expectTypeOf<
      ExplicitlyUndefined<PostgresExternalTaskRepositoryOptions>
    >().toExtend<PostgresExternalTaskRepositoryOptions>();
    expectTypeOf<ExplicitlyUndefined<AccessPolicy>>().toExtend<AccessPolicy>();
  });

  it('would catch an optional property declared without undefined', () => {
    interface Strict {
      readonly given?: number;
    }
    // @ts-expect-error -- `{ given: undefined }` is not a Strict under exactOptionalPropertyTypes.
    expectTypeOf<ExplicitlyUndefined<Strict>>().toExtend<Strict>();
  });

  it('and the runtime accepts what the types accept', async () => {
    const repository = new InMemoryExternalTaskRepository({ clock: undefined, logger: undefined });
    const api = new ExternalTaskApi({
      repository,
      accessPolicy: undefined,
      clock: undefined,
      logger: undefined,
    });
    try {
      const created = await repository.create({
        topic: 'invoice',
        correlationId: 'c',
        processInstanceId: 'p',
        flowNodeInstanceId: 'f',
        processModelId: undefined,
        tenantId: undefined,
        identity: undefined,
        payload: undefined,
        priority: undefined,
        retries: undefined,
      });
      expect(created).to.include({ payload: null, priority: 0 });
      const identity = { token: 'secret' };
      const [task] = await api.fetchAndLock(identity, {
        workerId: 'w',
        topics: [{ topicName: 'invoice', lockDuration: 1000 }],
        maxTasks: 1,
        longPollingTimeout: undefined,
        signal: undefined,
      });
      expect(task?.id).to.equal(created.id);
      const outcome = api.waitForOutcome(created.id, { signal: undefined });
      await api.handleServiceError(identity, 'w', created.id, 'down', undefined, {
        retries: undefined,
        retryTimeout: undefined,
      });
      expect(await outcome).to.include({ state: 'failed' });
      const page = await repository.query({ state: undefined, topic: undefined, limit: undefined });
      expect(page.total).to.equal(1);
      const counts = await repository.countByTopic({ topics: undefined, tenantId: undefined });
      expect(counts.map(({ topic, failed }) => ({ topic, failed }))).to.deep.equal([
        { topic: 'invoice', failed: 1 },
      ]);
    } finally {
      await api.close();
    }
  });
});
