import { BadRequestError } from '../errors/index.js';
import type { ExternalTaskState, Identity, JsonValue, NewExternalTask } from '../model/index.js';
import {
  copyJsonValue,
  limits,
  optionalString,
  requireInteger,
  requireObject,
  requireString,
} from '../validation/index.js';
import type { CancelSelector, ExternalTaskQuery } from './external-task-repository.js';

/** A {@link NewExternalTask} after its checks: defaults applied, payload and identity copied and frozen. */
export interface ValidNewTask {
  readonly topic: string;
  readonly flowNodeInstanceId: string;
  readonly correlationId: string;
  readonly processInstanceId: string;
  readonly processModelId: string | undefined;
  readonly identity: Identity | undefined;
  readonly payload: JsonValue;
  readonly priority: number;
  readonly retries: number | undefined;
}

/** Checks what the engine gives `create`; every repository adapter refuses the same inputs the same way. */
export function validateNewTask(input: NewExternalTask): ValidNewTask {
  requireObject('task', input);
  return {
    topic: requireString('topic', input.topic),
    flowNodeInstanceId: requireString('flowNodeInstanceId', input.flowNodeInstanceId),
    correlationId: requireString('correlationId', input.correlationId),
    processInstanceId: requireString('processInstanceId', input.processInstanceId),
    processModelId: optionalString('processModelId', input.processModelId),
    identity:
      input.identity === undefined
        ? undefined
        : (copyJsonValue('identity', requireObject('identity', input.identity)) as Identity),
    payload: input.payload === undefined ? null : copyJsonValue('payload', input.payload),
    priority:
      input.priority === undefined
        ? 0
        : requireInteger('priority', input.priority, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    retries:
      input.retries === undefined
        ? undefined
        : requireInteger('retries', input.retries, 0, limits.maxRetries),
  };
}

const states: readonly ExternalTaskState[] = ['pending', 'finished', 'failed', 'cancelled'];

/** Checks a query filter; answers its page bounds with defaults applied. */
export function validateQuery(filter: ExternalTaskQuery): { limit: number; offset: number } {
  requireObject('filter', filter);
  for (const field of ['topic', 'processInstanceId', 'correlationId', 'flowNodeInstanceId'] as const) {
    optionalString(field, filter[field]);
  }
  if (filter.state !== undefined && !states.includes(filter.state)) {
    throw new BadRequestError('state', `state must be one of ${states.join(', ')}.`);
  }
  if (filter.incident !== undefined && typeof filter.incident !== 'boolean') {
    throw new BadRequestError('incident', 'incident must be a boolean.');
  }
  return {
    limit: filter.limit === undefined ? 100 : requireInteger('limit', filter.limit, 1, limits.maxTasks),
    offset:
      filter.offset === undefined ? 0 : requireInteger('offset', filter.offset, 0, Number.MAX_SAFE_INTEGER),
  };
}

/** Checks an optional list of topic names (for counts). */
export function validateTopicNames(topicNames: readonly string[] | undefined): readonly string[] | undefined {
  if (topicNames === undefined) return undefined;
  if (!Array.isArray(topicNames))
    throw new BadRequestError('topicNames', 'topicNames must be an array of topic names.');
  return topicNames.map((topicName, index) => requireString(`topicNames[${index}]`, topicName));
}

/** Checks a cancel selector: exactly one of its three keys, a valid id. */
export function validateCancelSelector(selector: CancelSelector): {
  field: 'externalTaskId' | 'flowNodeInstanceId' | 'processInstanceId';
  value: string;
} {
  requireObject('selector', selector);
  const given = (['externalTaskId', 'flowNodeInstanceId', 'processInstanceId'] as const).filter(
    (field) => (selector as Record<string, unknown>)[field] !== undefined,
  );
  const [field] = given;
  if (given.length !== 1 || field === undefined) {
    throw new BadRequestError(
      'selector',
      'selector must name exactly one of externalTaskId, flowNodeInstanceId, processInstanceId.',
    );
  }
  return { field, value: requireString(field, (selector as Record<string, unknown>)[field]) };
}
