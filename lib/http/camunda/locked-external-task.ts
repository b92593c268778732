import type { ExternalTask, JsonValue } from '../../model/index.js';
import { payloadVariables, type CamundaVariable } from './camunda-variables.js';

/** A fetched task as Camunda's REST API answers it (its `LockedExternalTaskDto`). */
export interface LockedExternalTaskDto {
  readonly id: string;
  readonly topicName: string;
  readonly workerId: string | null;
  readonly lockExpirationTime: string | null;
  readonly createTime: string;
  readonly processInstanceId: string;
  readonly executionId: string;
  readonly activityId: null;
  readonly activityInstanceId: string;
  readonly processDefinitionId: null;
  readonly processDefinitionKey: string | null;
  readonly processDefinitionVersionTag: null;
  readonly businessKey: string;
  readonly tenantId: string | null;
  readonly priority: number;
  readonly retries: number | null;
  readonly errorMessage: string | null;
  readonly errorDetails: string | null;
  readonly variables: Record<string, CamundaVariable>;
  readonly extensionProperties: Record<string, never>;
}

/**
 * `task` in Camunda's shape: the flow node instance is both the activity instance and the execution,
 * the correlation id is the business key and the process model id the process definition key (there is
 * no activity id nor process definition id); the payload becomes the variables (see
 * {@link payloadVariables}), only those named in `variableNames` when given.
 */
export function lockedExternalTask(
  task: ExternalTask,
  variableNames?: readonly string[],
): LockedExternalTaskDto {
  const lastError = task.error;
  return {
    id: task.id,
    topicName: task.topic,
    workerId: task.workerId ?? null,
    lockExpirationTime: task.lockExpirationTime ? camundaDate(task.lockExpirationTime) : null,
    createTime: camundaDate(task.createdAt),
    processInstanceId: task.processInstanceId,
    executionId: task.flowNodeInstanceId,
    activityId: null,
    activityInstanceId: task.flowNodeInstanceId,
    processDefinitionId: null,
    processDefinitionKey: task.processModelId ?? null,
    processDefinitionVersionTag: null,
    businessKey: task.correlationId,
    tenantId: task.tenantId ?? null,
    priority: task.priority,
    retries: task.retries ?? null,
    errorMessage: lastError?.errorMessage ?? null,
    errorDetails: lastError?.type === 'service' ? detailsText(lastError.errorDetails) : null,
    variables: payloadVariables(task.payload, variableNames),
    extensionProperties: {},
  };
}

/** A time as Camunda writes it: `2026-01-31T12:00:00.000+0000`. */
function camundaDate(date: Date): string {
  return date.toISOString().replace(/Z$/, '+0000');
}

/** Camunda's error details are text: a string as it is, other JSON as its text. */
function detailsText(details: JsonValue | undefined): string | null {
  if (details === undefined || details === null) return null;
  return typeof details === 'string' ? details : JSON.stringify(details);
}
