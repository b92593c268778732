import type { ExternalTask, ExternalTaskFailure, JsonValue } from '../../model/index.js';
import { frozenDate } from '../../model/frozen-record.js';
import type { ValidNewTask } from '../repository-arguments.js';
import type { HeapItem } from './indexed-heap.js';

/** The in-memory store's own mutable record of a task; never handed out (see {@link taskRecord}). */
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

/**
 * The record of `task` as it is now, immutable by construction: frozen, its dates frozen too, its
 * `payload`, `result` and `error` deeply frozen already. Made once per change, one record serves every
 * receiver — the caller, the change feed and each of its subscribers — since none can change it.
 */
export function taskRecord(task: StoredTask): ExternalTask {
  const record: { -readonly [Field in keyof ExternalTask]: ExternalTask[Field] } = {
    id: task.id,
    topic: task.topic,
    flowNodeInstanceId: task.flowNodeInstanceId,
    correlationId: task.correlationId,
    processInstanceId: task.processInstanceId,
  } as ExternalTask;
  if (task.processModelId !== undefined) record.processModelId = task.processModelId;
  if (task.tenantId !== undefined) record.tenantId = task.tenantId;
  if (task.identity !== undefined) record.identity = task.identity;
  record.payload = task.payload;
  record.priority = task.priority;
  record.state = task.state;
  if (task.workerId !== undefined) record.workerId = task.workerId;
  if (task.lockExpirationTime !== undefined) record.lockExpirationTime = frozenDate(task.lockExpirationTime);
  record.createdAt = frozenDate(task.createdAt);
  if (task.finishedAt !== undefined) record.finishedAt = frozenDate(task.finishedAt);
  if (task.result !== undefined) record.result = task.result;
  if (task.error !== undefined) record.error = task.error;
  if (task.retries !== undefined) record.retries = task.retries;
  record.attempts = task.attempts;
  if (task.retryAt !== undefined) record.retryAt = frozenDate(task.retryAt);
  if (task.incident !== undefined) record.incident = task.incident;
  if (task.idempotencyKey !== undefined) record.idempotencyKey = task.idempotencyKey;
  return Object.freeze(record);
}
