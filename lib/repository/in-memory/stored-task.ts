import type { ExternalTask, ExternalTaskFailure, JsonValue } from '../../model/index.js';
import type { ValidNewTask } from '../repository-arguments.js';
import type { HeapItem } from './indexed-heap.js';

/** The in-memory store's own mutable record of a task; never handed out (see {@link toSnapshot}). */
export interface StoredTask extends ValidNewTask, HeapItem {
  readonly id: string;
  readonly createdAt: number;
  /** Creation order, for strict FIFO among equal priorities and creation times. */
  readonly sequence: number;
  /** Changed only through the store's task table (see {@link TaskTable.setPriority}). */
  priority: number;
  state: ExternalTask['state'];
  /** The remaining retry budget (see {@link ExternalTask.retries}). */
  retries: number | undefined;
  /** How many claims locked it (see {@link ExternalTask.attempts}). */
  attempts: number;
  workerId: string | undefined;
  lockExpirationTime: number | undefined;
  finishedAt: number | undefined;
  result: JsonValue | undefined;
  error: ExternalTaskFailure | undefined;
  retryAt: number | undefined;
  incident: boolean | undefined;
  /** Which queue of its topic holds the pending task (see {@link TopicQueues}); none when final. */
  queue: 'ready' | 'locked' | 'delayed' | undefined;
}

/** A new pending task: one literal with every field, in a fixed order, so all share one object shape. */
export function newStoredTask(
  valid: ValidNewTask,
  id: string,
  createdAt: number,
  sequence: number,
): StoredTask {
  return {
    id,
    topic: valid.topic,
    flowNodeInstanceId: valid.flowNodeInstanceId,
    correlationId: valid.correlationId,
    processInstanceId: valid.processInstanceId,
    processModelId: valid.processModelId,
    tenantId: valid.tenantId,
    identity: valid.identity,
    payload: valid.payload,
    priority: valid.priority,
    retries: valid.retries,
    idempotencyKey: valid.idempotencyKey,
    attempts: 0,
    createdAt,
    sequence,
    state: 'pending',
    workerId: undefined,
    lockExpirationTime: undefined,
    finishedAt: undefined,
    result: undefined,
    error: undefined,
    retryAt: undefined,
    incident: undefined,
    queue: undefined,
    heapIndex: -1,
  };
}

/** A fresh, detached record of `task` (payload, result and error are frozen and shared). */
export function toSnapshot(task: StoredTask): ExternalTask {
  return {
    id: task.id,
    topic: task.topic,
    flowNodeInstanceId: task.flowNodeInstanceId,
    correlationId: task.correlationId,
    processInstanceId: task.processInstanceId,
    ...(task.processModelId !== undefined && { processModelId: task.processModelId }),
    ...(task.tenantId !== undefined && { tenantId: task.tenantId }),
    ...(task.identity !== undefined && { identity: task.identity }),
    payload: task.payload,
    priority: task.priority,
    state: task.state,
    ...(task.workerId !== undefined && { workerId: task.workerId }),
    ...(task.lockExpirationTime !== undefined && { lockExpirationTime: new Date(task.lockExpirationTime) }),
    createdAt: new Date(task.createdAt),
    ...(task.finishedAt !== undefined && { finishedAt: new Date(task.finishedAt) }),
    ...(task.result !== undefined && { result: task.result }),
    ...(task.error !== undefined && { error: task.error }),
    ...(task.retries !== undefined && { retries: task.retries }),
    attempts: task.attempts,
    ...(task.retryAt !== undefined && { retryAt: new Date(task.retryAt) }),
    ...(task.incident !== undefined && { incident: task.incident }),
    ...(task.idempotencyKey !== undefined && { idempotencyKey: task.idempotencyKey }),
  };
}
