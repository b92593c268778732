import type { ExternalTask } from '../model/index.js';
import { delayAfter, type DelaySchedule } from '../clock/index.js';

/** The retry options of a service error report, as {@link ExternalTaskService.handleServiceError} takes them. */
export interface PlannedRetry {
  readonly retries: number;
  readonly retryTimeout: number;
}

/** How a worker retries a task whose handler threw (anything but a {@link BpmnError}). */
export interface ResolvedRetryPolicy extends DelaySchedule {
  readonly retries: number;
}

/**
 * What to report after a handler failure. `retries` counts, as in Camunda, how often the task may still be
 * retried from now on: it is the task's own budget (`task.retries`) or, on a task without one, the
 * policy's — less one when the attempt that just failed was itself a retry (the task already carries an
 * earlier error). `undefined` — a plain service error, as the specification has it — when neither the
 * task nor the policy grants retries. The delay grows with the task's attempts: the n-th attempt waits
 * `initialDelay × factor^(n−1)`, capped.
 */
export function planRetry(
  task: ExternalTask,
  policy: ResolvedRetryPolicy,
  random: number,
): PlannedRetry | undefined {
  if (task.retries === undefined && policy.retries === 0) return undefined;
  const allowed = task.retries ?? policy.retries;
  const wasRetry = task.error !== undefined;
  const retries = Math.max(0, wasRetry ? allowed - 1 : allowed);
  const failuresSoFar = Math.max(0, task.attempts - 1);
  return { retries, retryTimeout: retries > 0 ? delayAfter(policy, failuresSoFar, random) : 0 };
}
