/**
 * Thrown by a handler to report a *business* error (spec §3.4): the worker answers with
 * `handleBpmnError(code, message)`, and the engine can route the error to a BPMN error boundary event
 * whose error code matches. Any other exception a handler throws is reported as a service error.
 *
 * @example
 * ```ts
 * const worker = new ExternalTaskWorker(api, {
 *   topic: 'check-credit',
 *   handler: async (task) => {
 *     const score = await creditScore(task.payload);
 *     if (score < 500) throw new BpmnError('CREDIT_REFUSED', `score ${score} is below 500`);
 *     return { score };
 *   },
 * });
 * ```
 */
export class BpmnError extends Error {
  /** The BPMN error code the process model's boundary events match against. */
  readonly code: string;

  /**
   * @param code - the BPMN error code: a non-empty string (at most 255 characters, as the API requires).
   * @param message - an optional explanation, stored on the task as `errorMessage`.
   * @throws TypeError when `code` is not a non-empty string.
   */
  constructor(code: string, message?: string, options?: ErrorOptions) {
    if (typeof code !== 'string' || code.length === 0) {
      throw new TypeError(`BpmnError: code must be a non-empty string, got ${String(code)}.`);
    }
    super(message ?? '', options);
    this.name = 'BpmnError';
    this.code = code;
  }
}
