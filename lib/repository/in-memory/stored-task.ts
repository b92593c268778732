import type { ExternalTask, ExternalTaskFailure, JsonValue } from '../../model/index.js';
import type { ValidNewTask } from '../repository-arguments.js';
import type { HeapItem } from './indexed-heap.js';

/** The in-memory store's own mutable record of a task; never handed out (see `taskRecord`). */
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

/** The fields of a task that change over its life, as a change log keeps them for each change. */
export type TaskProgress = Pick<
  StoredTask,
  | 'state'
  | 'priority'
  | 'retries'
  | 'attempts'
  | 'workerId'
  | 'lockExpirationTime'
  | 'finishedAt'
  | 'result'
  | 'error'
  | 'retryAt'
  | 'incident'
>;
