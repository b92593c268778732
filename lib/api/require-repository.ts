import type { ConsumerLeases, ExternalTaskRepository } from '../repository/index.js';

/** Every method of the repository contract, checked at construction rather than at the first call. */
const repositoryMethods = [
  'create',
  'createMany',
  'getById',
  'claim',
  'extendLock',
  'complete',
  'unlock',
  'cancel',
  'setRetries',
  'forceUnlock',
  'setPriority',
  'deleteFinalTasks',
  'query',
  'countByTopic',
  'msUntilNextAvailable',
  'watchAvailability',
  'subscribe',
  'currentPosition',
] as const satisfies readonly (keyof ExternalTaskRepository)[];

/**
 * The repository of the facade's `options`, or a TypeError that says what is wrong: the repository given
 * where the options belong, no repository, or the methods it lacks (and, if it has `consumerLeases`, the
 * operations that group lacks).
 */
export function requireRepository(options: unknown): ExternalTaskRepository {
  const given = options as
    (Partial<ExternalTaskRepository> & { readonly repository?: unknown }) | null | undefined;
  if (typeof given?.claim === 'function' && given.repository === undefined) {
    throw new TypeError(
      'ExternalTaskApi takes an options object: write new ExternalTaskApi({ repository }), not new ExternalTaskApi(repository).',
    );
  }
  const repository = given?.repository as Partial<ExternalTaskRepository> | null | undefined;
  if (typeof repository !== 'object' || repository === null) {
    throw new TypeError('ExternalTaskApi: options.repository must be an ExternalTaskRepository.');
  }
  const missing: string[] = repositoryMethods.filter((method) => typeof repository[method] !== 'function');
  const leases = repository.consumerLeases as Partial<ConsumerLeases> | null | undefined;
  if (leases !== undefined) {
    // An optional group, all or nothing: a store that has it must have each of its operations.
    const operations = ['acquire', 'renew', 'release'] as const satisfies readonly (keyof ConsumerLeases)[];
    for (const operation of operations)
      if (typeof leases?.[operation] !== 'function') missing.push(`consumerLeases.${operation}`);
  }
  if (missing.length > 0) {
    throw new TypeError(
      `ExternalTaskApi: options.repository is not an ExternalTaskRepository; it lacks ${missing.join(', ')}.`,
    );
  }
  return repository as ExternalTaskRepository;
}
