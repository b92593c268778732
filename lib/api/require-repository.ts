import type { ExternalTaskRepository } from '../repository/index.js';

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
 * where the options belong, no repository, or the methods it lacks.
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
  const missing = repositoryMethods.filter((method) => typeof repository[method] !== 'function');
  if (missing.length > 0) {
    throw new TypeError(
      `ExternalTaskApi: options.repository is not an ExternalTaskRepository; it lacks ${missing.join(', ')}.`,
    );
  }
  return repository as ExternalTaskRepository;
}
