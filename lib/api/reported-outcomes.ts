import type { TaskOutcome } from '../repository/index.js';
import type { ServiceErrorOptions } from './external-task-service.js';
import {
  validateBpmnError,
  validateResult,
  validateRetry,
  validateServiceError,
} from './request-validation.js';

/** The outcome of every finish without a result: frozen, so one serves them all. */
const finishedWithoutResult: TaskOutcome = Object.freeze({ state: 'finished' });

/** The outcome `finishExternalTask` reports: `result` checked as JSON and copied; none for `undefined`. */
export function finishedOutcome(result: unknown): TaskOutcome {
  const copy = validateResult(result);
  return copy === undefined ? finishedWithoutResult : { state: 'finished', result: copy };
}

/** The outcome `handleBpmnError` reports, its code and message checked. */
export function bpmnErrorOutcome(errorCode: string, errorMessage: string | undefined): TaskOutcome {
  return { state: 'failed', error: validateBpmnError(errorCode, errorMessage) };
}

/** The outcome `handleServiceError` reports: the failure, and the retry its options ask for, checked. */
export function serviceErrorOutcome(
  errorMessage: string,
  errorDetails: unknown,
  options: ServiceErrorOptions | undefined,
): TaskOutcome {
  const error = validateServiceError(errorMessage, errorDetails);
  const retry = validateRetry(options);
  return retry ? { state: 'failed', error, retry } : { state: 'failed', error };
}
