import type { ExternalTaskService, FetchAndLockOptions } from '../../api/index.js';
import type { ExternalTask, Identity } from '../../model/index.js';
import type { RequestContext } from './request-context.js';

/**
 * Fetches for the client of `context`: the poll ends when the client goes away (`context.signal`), and
 * tasks claimed in the meantime — for nobody — are unlocked at once rather than left locked until their
 * locks expire. Resolves to the tasks to answer, or to `undefined` when there is nobody to answer.
 * Rejects with the fetch's error.
 */
export async function fetchForClient(
  api: ExternalTaskService,
  context: RequestContext,
  identity: Identity | undefined,
  options: Omit<FetchAndLockOptions, 'signal'>,
): Promise<ExternalTask[] | undefined> {
  const { signal } = context;
  const tasks = await api.fetchAndLock(identity, { ...options, signal });
  if (!signal.aborted) return tasks;
  await release(api, context, identity, options.workerId, tasks);
  return undefined;
}

async function release(
  api: ExternalTaskService,
  { logger }: RequestContext,
  identity: Identity | undefined,
  workerId: string,
  tasks: readonly ExternalTask[],
): Promise<void> {
  await Promise.all(
    tasks.map((task) =>
      api.unlock(identity, workerId, task.id).catch((error: unknown) =>
        logger.warn('A task claimed for a client that went away could not be unlocked; its lock expires.', {
          externalTaskId: task.id,
          error,
        }),
      ),
    ),
  );
}
