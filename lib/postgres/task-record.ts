import {
  frozenRecord,
  type ExternalTask,
  type ExternalTaskFailure,
  type ExternalTaskState,
  type Identity,
  type JsonValue,
} from '../model/index.js';
import type { ExternalTaskChange, ExternalTaskChangeType } from '../repository/index.js';

/** A task as the SQL function `task_record` writes it (times in ms since the epoch, absent fields null). */
export interface TaskRecord {
  readonly id: string;
  readonly topic: string;
  readonly flowNodeInstanceId: string;
  readonly correlationId: string;
  readonly processInstanceId: string;
  readonly processModelId: string | null;
  readonly tenantId: string | null;
  readonly identity: Identity | null;
  readonly payload: JsonValue;
  readonly priority: number;
  readonly state: ExternalTaskState;
  readonly workerId: string | null;
  readonly lockExpirationTime: number | null;
  readonly createdAt: number;
  readonly finishedAt: number | null;
  readonly hasResult: boolean;
  readonly result: JsonValue;
  readonly error: ExternalTaskFailure | null;
  readonly retries: number | null;
  readonly attempts: number;
  readonly retryAt: number | null;
  readonly incident: boolean | null;
  /** Absent from records of a schema before version 3 (kept in its feed). */
  readonly idempotencyKey?: string | null;
}

/**
 * Freezes a parsed JSON value and everything in it. A record parsed once may be mapped twice (a claim's
 * answer and the change this process's subscriptions are offered share it): frozen, neither can change
 * what the other holds.
 */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}

/** The record handed out: optional fields present only when set, JSON values deeply frozen. */
export function toTask(record: TaskRecord): ExternalTask {
  const time = (ms: number | null): Date | undefined => (ms === null ? undefined : new Date(ms));
  const lockExpirationTime = time(record.lockExpirationTime);
  const finishedAt = time(record.finishedAt);
  const retryAt = time(record.retryAt);
  return {
    id: record.id,
    topic: record.topic,
    flowNodeInstanceId: record.flowNodeInstanceId,
    correlationId: record.correlationId,
    processInstanceId: record.processInstanceId,
    ...(record.processModelId !== null && { processModelId: record.processModelId }),
    ...(record.tenantId !== null && { tenantId: record.tenantId }),
    ...(record.identity !== null && { identity: deepFreeze(record.identity) }),
    payload: deepFreeze(record.payload),
    priority: record.priority,
    state: record.state,
    ...(record.workerId !== null && { workerId: record.workerId }),
    ...(lockExpirationTime && { lockExpirationTime }),
    createdAt: new Date(record.createdAt),
    ...(finishedAt && { finishedAt }),
    ...(record.hasResult && { result: deepFreeze(record.result) }),
    ...(record.error !== null && { error: deepFreeze(record.error) }),
    ...(record.retries !== null && { retries: record.retries }),
    attempts: record.attempts,
    ...(retryAt && { retryAt }),
    ...(record.incident !== null && { incident: record.incident }),
    ...(record.idempotencyKey != null && { idempotencyKey: record.idempotencyKey }),
  };
}

/** A change of the feed, frozen, with what its type carries besides the record (taken from the record). */
export function toChange(
  type: ExternalTaskChangeType,
  position: number,
  record: TaskRecord,
): ExternalTaskChange {
  const task = frozenRecord(toTask(record));
  const error = task.error as ExternalTaskFailure;
  switch (type) {
    case 'finished':
      return Object.freeze({ type, position, task, result: task.result });
    case 'failed':
      return Object.freeze({ type, position, task, error, incident: task.incident === true });
    case 'retryScheduled':
      return Object.freeze({ type, position, task, error });
    default:
      return Object.freeze({ type, position, task });
  }
}
