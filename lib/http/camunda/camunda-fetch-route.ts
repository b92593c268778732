import type { ExternalTaskService, FetchTopic } from '../../api/index.js';
import { BadRequestError } from '../../errors/index.js';
import type { ExternalTask } from '../../model/index.js';
import { fetchForClient } from '../server/client-fetch.js';
import { sendJson } from '../server/json-response.js';
import type { RequestContext } from '../server/request-context.js';
import { renameArgument } from '../wire/wire-arguments.js';
import { camundaJsonHeaders } from './camunda-json.js';
import { lockedExternalTask } from './locked-external-task.js';

/**
 * Filters of a Camunda topic that select tasks by what this library's tasks do not have, or that a claim
 * cannot select by. A fetch that sets one is refused rather than answered with tasks it did not ask for.
 */
const unsupportedFilters = [
  'businessKey',
  'processDefinitionId',
  'processDefinitionIdIn',
  'processDefinitionKey',
  'processDefinitionKeyIn',
  'processDefinitionVersionTag',
  'processVariables',
  'tenantIdIn',
  'withoutTenantId',
] as const;

/** What one topic of a Camunda fetch asks for: the claim, and the variables to answer. */
interface TopicRequest {
  readonly claim: FetchTopic;
  readonly variableNames: readonly string[] | undefined;
}

/**
 * `POST /external-task/fetchAndLock`: Camunda's body `{ workerId, maxTasks, usePriority?,
 * asyncResponseTimeout?, topics: [{ topicName, lockDuration, variables? }] }`, answered with the locked
 * tasks as `LockedExternalTaskDto`s after waiting up to `asyncResponseTimeout` ms (default 0) when none
 * is available. Tasks always come by priority (`usePriority` and `sorting` change nothing); a topic's
 * `variables` names the variables to answer (all by default). A client that goes away ends the poll, and
 * what was claimed for it is unlocked at once.
 */
export async function camundaFetchAndLock(api: ExternalTaskService, context: RequestContext): Promise<void> {
  const body = await context.body();
  const identity = await context.identity();
  const requests = Array.isArray(body.topics) ? body.topics.map(topicRequest) : undefined;
  let tasks: ExternalTask[] | undefined;
  try {
    tasks = await fetchForClient(api, context, identity, {
      workerId: body.workerId as string,
      // Anything but an array goes to the api as it came, for it to name in its 400.
      topics: requests ? requests.map(({ claim }) => claim) : (body.topics as FetchTopic[]),
      maxTasks: body.maxTasks as number,
      longPollingTimeout: (body.asyncResponseTimeout ?? 0) as number,
    });
  } catch (error) {
    throw renameArgument(error, { longPollingTimeout: 'asyncResponseTimeout' });
  }
  if (!tasks) return;
  const namesByTopic = new Map(requests?.map(({ claim, variableNames }) => [claim.topicName, variableNames]));
  const locked = tasks.map((task) => lockedExternalTask(task, namesByTopic.get(task.topic)));
  sendJson(context.res, 200, locked, camundaJsonHeaders);
}

function topicRequest(topic: unknown, index: number): TopicRequest {
  if (typeof topic !== 'object' || topic === null || Array.isArray(topic)) {
    // Not a topic: the api refuses it by its name.
    return { claim: topic as FetchTopic, variableNames: undefined };
  }
  const fields = topic as Record<string, unknown>;
  for (const filter of unsupportedFilters) {
    const value = fields[filter];
    if (value !== undefined && value !== null && value !== false) {
      throw new BadRequestError(
        `topics[${index}].${filter}`,
        `topics[${index}].${filter} is not supported: tasks cannot be selected by it here.`,
      );
    }
  }
  return {
    claim: { topicName: fields.topicName, lockDuration: fields.lockDuration } as FetchTopic,
    variableNames: variableNames(fields.variables, `topics[${index}].variables`),
  };
}

function variableNames(names: unknown, argument: string): readonly string[] | undefined {
  if (names === undefined || names === null) return undefined;
  if (!Array.isArray(names) || !names.every((name) => typeof name === 'string')) {
    throw new BadRequestError(argument, `${argument} must be an array of variable names.`);
  }
  return names;
}
