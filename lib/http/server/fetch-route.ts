import type { ExternalTaskService, FetchTopic } from '../../api/index.js';
import type { ExternalTask } from '../../model/index.js';
import { fetchForClient } from './client-fetch.js';
import { sendJson } from './json-response.js';
import type { RequestContext } from './request-context.js';
import { positionalFetchArguments, renameArgument } from '../wire/wire-arguments.js';

/**
 * `POST /fetch_and_lock`: the specification's body `{ workerId, topicName, maxTasks, longPollingTimeout,
 * lockDuration }`, or the options form `{ workerId, topics: [{ topicName, lockDuration }], maxTasks,
 * longPollingTimeout? }` (told apart by `topics`). Answers the locked tasks as a JSON array, after waiting
 * up to `longPollingTimeout` ms when none is available.
 *
 * When the client goes away the poll ends at once, and tasks claimed in the meantime — for nobody — are
 * unlocked at once rather than left locked until their locks expire (see {@link fetchForClient}).
 */
export async function fetchAndLockRoute(api: ExternalTaskService, context: RequestContext): Promise<void> {
  const body = await context.body();
  const identity = await context.identity();
  const positional = body.topics === undefined;
  let tasks: ExternalTask[] | undefined;
  try {
    tasks = await fetchForClient(api, context, identity, {
      workerId: body.workerId as string,
      topics: positional
        ? [{ topicName: body.topicName, lockDuration: body.lockDuration } as FetchTopic]
        : (body.topics as FetchTopic[]),
      maxTasks: body.maxTasks as number,
      // The specification's form requires the timeout: a missing one is refused, not taken as 0.
      longPollingTimeout: (positional
        ? (body.longPollingTimeout ?? null)
        : body.longPollingTimeout) as number,
    });
  } catch (error) {
    throw positional ? renameArgument(error, positionalFetchArguments) : error;
  }
  if (tasks) sendJson(context.res, 200, tasks);
}
