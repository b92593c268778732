import type { ExternalTask, ExternalTaskFailure, JsonValue } from '../../lib/model/index.js';
import type { ExternalTaskChange, ExternalTaskChangeType } from '../../lib/repository/index.js';

/**
 * A task as the reference model keeps it: the record's fields with times as ms since the epoch, so that
 * a model record and a store's record compare with `deep.equal` once the store's is {@link plainRecord}.
 * Fields a record leaves out are absent here too (never `undefined`).
 */
export interface ModelTask {
  id: string;
  topic: string;
  flowNodeInstanceId: string;
  correlationId: string;
  processInstanceId: string;
  tenantId?: string;
  payload: JsonValue;
  priority: number;
  state: 'pending' | 'finished' | 'failed' | 'cancelled';
  workerId?: string;
  lockExpirationTime?: number;
  createdAt: number;
  finishedAt?: number;
  result?: JsonValue;
  error?: ExternalTaskFailure;
  retries?: number;
  attempts: number;
  retryAt?: number;
  incident?: boolean;
  idempotencyKey?: string;
}

/** A change as the model predicts it: its type, the task's record after it, and what its type carries. */
export interface ModelChange {
  readonly type: ExternalTaskChangeType;
  readonly task: ModelTask;
  readonly result?: JsonValue;
  readonly error?: ExternalTaskFailure;
  readonly incident?: boolean;
}

const TIMES = ['lockExpirationTime', 'createdAt', 'finishedAt', 'retryAt'] as const;

/** A store's record in the model's form: times as ms, absent fields absent. */
export function plainRecord(task: ExternalTask): ModelTask {
  const plain: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(task)) {
    if (value === undefined) continue;
    plain[key] = (TIMES as readonly string[]).includes(key) ? (value as Date).getTime() : value;
  }
  return plain as unknown as ModelTask;
}

/** A store's change in the model's form (its position dropped: the feed's order is checked apart). */
export function plainChange(change: ExternalTaskChange): ModelChange {
  const plain: { -readonly [K in keyof ModelChange]: ModelChange[K] } = {
    type: change.type,
    task: plainRecord(change.task),
  };
  if (change.type === 'finished' && change.result !== undefined) plain.result = change.result;
  if (change.type === 'failed' || change.type === 'retryScheduled') plain.error = change.error;
  if (change.type === 'failed') plain.incident = change.incident;
  return plain;
}

/** A copy of `task` without `fields`. */
export function without(task: ModelTask, ...fields: (keyof ModelTask)[]): ModelTask {
  const copy = { ...task };
  for (const field of fields) delete copy[field];
  return copy;
}
