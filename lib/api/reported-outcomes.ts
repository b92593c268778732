import type { BpmnFailure, ServiceFailure } from '../model/index.js';
import type { TaskOutcome } from '../repository/index.js';
import { copyJsonValue, limits, optionalText, requireString } from '../validation/index.js';
import type { ServiceErrorOptions } from './external-task-service.js';
import { validateRetry } from './request-validation.js';

/** The outcome `finishExternalTask` reports: `result` checked as JSON and copied; none for `undefined`. */
export function finishedOutcome(result: unknown): TaskOutcome {
  return {
    state: 'finished',
    ...(result !== undefined && { result: copyJsonValue('result', result) }),
  };
}

/** The outcome `handleBpmnError` reports, its code and message checked. */
export function bpmnErrorOutcome(errorCode: string, errorMessage: string | undefined): TaskOutcome {
  const message = optionalText('errorMessage', errorMessage, limits.maxMessageLength);
  const error: BpmnFailure = Object.freeze({
    type: 'bpmn',
    errorCode: requireString('errorCode', errorCode),
    ...(message !== undefined && { errorMessage: message }),
  });
  return { state: 'failed', error };
}

/** The outcome `handleServiceError` reports: the failure, and the retry its options ask for, checked. */
export function serviceErrorOutcome(
  errorMessage: string,
  errorDetails: unknown,
  options: ServiceErrorOptions | undefined,
): TaskOutcome {
  const error: ServiceFailure = Object.freeze({
    type: 'service',
    errorMessage: requireString('errorMessage', errorMessage, limits.maxMessageLength),
    ...(errorDetails !== undefined && {
      errorDetails: copyJsonValue('errorDetails', errorDetails, { storableStrings: true }),
    }),
  });
  const retry = validateRetry(options);
  return retry ? { state: 'failed', error, retry } : { state: 'failed', error };
}
