import type { ExternalTask, ExternalTaskFailure, JsonValue } from '../model/index.js';
import type { SimulatedChange } from './stub-repository.js';

/** When a simulated outcome happened. @default now */
export interface SimulatedOutcomeOptions {
  readonly at?: Date | undefined;
}

/**
 * The change of `task` finishing with `result`, for `simulateChange`: the record is `task` made final
 * (`state: 'finished'`, `result`, `finishedAt`, no lock), so the result is written once.
 */
export function finishedChange(
  task: ExternalTask,
  result: JsonValue,
  { at = new Date() }: SimulatedOutcomeOptions = {},
): SimulatedChange {
  return { type: 'finished', task: { ...finalRecord(task, at), state: 'finished', result }, result };
}

/**
 * The change of `task` failing with `error` (a BPMN error, or a service error — an incident when
 * `incident` is `true`), for `simulateChange`: the record carries the same `error` and `incident`.
 */
export function failedChange(
  task: ExternalTask,
  error: ExternalTaskFailure,
  { at = new Date(), incident = false }: SimulatedOutcomeOptions & { readonly incident?: boolean } = {},
): SimulatedChange {
  const record = { ...finalRecord(task, at), state: 'failed' as const, error, incident };
  return { type: 'failed', task: record, error, incident };
}

/** The change of the engine cancelling `task`, for `simulateChange`. */
export function cancelledChange(
  task: ExternalTask,
  { at = new Date() }: SimulatedOutcomeOptions = {},
): SimulatedChange {
  return { type: 'cancelled', task: { ...finalRecord(task, at), state: 'cancelled' } };
}

/** `task` as a final record: ended `at`, without a lock or a pending retry. */
function finalRecord(task: ExternalTask, at: Date): ExternalTask {
  const { lockExpirationTime: _lock, retryAt: _retry, ...rest } = task;
  return { ...rest, finishedAt: at };
}
