import type { ExternalTaskService } from '../api/index.js';
import type { ExternalTask } from '../model/index.js';
import { limits, storableText } from '../validation/index.js';
import { BpmnError } from './bpmn-error.js';
import { logFailedRun } from './failed-run-log.js';
import type { FetchedTask } from './fetched-task.js';
import { LockKeeper } from './lock-keeper.js';
import { planRetry, type PlannedRetry } from './retry-policy.js';
import { TaskAbortedError } from './task-aborted-error.js';
import type { AnnounceWorkerEvent, ReportOperation } from './worker-events.js';
import type { ResolvedWorkerOptions } from './worker-options.js';

/** What the handler came to. */
type HandlerOutcome =
  | { readonly kind: 'result'; readonly result: unknown }
  | { readonly kind: 'bpmn'; readonly error: BpmnError }
  | { readonly kind: 'service'; readonly error: unknown };

/**
 * One task, from handler call to reported outcome: runs the handler with a {@link LockKeeper} beside it,
 * and reports what the handler returned or threw — unless the run was aborted (lost lock, or the worker
 * stopped), in which case the outcome is dropped. Neither {@link execute} nor the report it answers
 * rejects: failures to report become `worker:error` events. A service error is logged once, saying what happens next.
 */
export class TaskRun {
  readonly task: ExternalTask;
  /** When the task's lock began, as the worker saw it: its first extension is timed from then. */
  private readonly lockedSince: number;
  private readonly controller = new AbortController();
  private handlerSettled = false;

  constructor(
    { task, lockedSince }: FetchedTask,
    private readonly api: ExternalTaskService,
    private readonly options: ResolvedWorkerOptions,
    private readonly announce: AnnounceWorkerEvent,
  ) {
    this.task = task;
    this.lockedSince = lockedSince;
  }

  /** Aborts the handler, unless it has already settled; its outcome will then not be reported. */
  abort(reason: TaskAbortedError): void {
    if (this.handlerSettled || this.controller.signal.aborted) return;
    this.controller.abort(reason);
    this.announce({
      name: 'worker:task:aborted',
      payload: { workerId: this.options.workerId, task: this.task, reason },
    });
  }

  /**
   * Runs the handler with its lock kept; once the handler has settled, answers the report of its outcome
   * as `trailing` (nothing when the run was aborted). The report goes on while the worker's slot takes
   * the next task, so that reports and the next fetch overlap.
   */
  async execute(): Promise<{ trailing?: Promise<void> }> {
    // Aborted while it waited for a slot (the worker stopped, or the task was cancelled): the handler is
    // not called at all, and its abort event would never come again to end the run.
    if (this.controller.signal.aborted) return {};
    const { api, task, options } = this;
    const keeper = new LockKeeper({
      api,
      identity: options.identity,
      workerId: options.workerId,
      task,
      lockedSince: this.lockedSince,
      lockDuration: options.lockDuration,
      interval: options.extendLockInterval,
      clock: options.clock,
      announce: this.announce,
      logger: options.logger,
      onLockLost: (error) => this.abort(TaskAbortedError.lockLost(task, error)),
    });
    this.announce({ name: 'worker:task:started', payload: { workerId: options.workerId, task } });
    keeper.start();
    let outcome: HandlerOutcome | undefined;
    try {
      outcome = await this.handlerOrAbort(keeper);
    } finally {
      await keeper.stop();
    }
    return outcome ? { trailing: this.report(outcome) } : {};
  }

  /** The handler's outcome, or `undefined` as soon as the run is aborted (the handler may go on). */
  private handlerOrAbort(keeper: LockKeeper): Promise<HandlerOutcome | undefined> {
    const { signal } = this.controller;
    const context = { signal, extendLock: (duration?: number) => keeper.extendNow(duration) };
    const handling = (async (): Promise<HandlerOutcome> => {
      try {
        return { kind: 'result', result: await this.options.handler(this.task, context) };
      } catch (error) {
        return error instanceof BpmnError ? { kind: 'bpmn', error } : { kind: 'service', error };
      }
    })();
    return new Promise((resolve) => {
      const onAbort = (): void => resolve(undefined);
      signal.addEventListener('abort', onAbort, { once: true });
      void handling.then((outcome) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) return;
        this.handlerSettled = true;
        resolve(outcome);
      });
    });
  }

  private async report(outcome: HandlerOutcome): Promise<void> {
    const { api, task } = this;
    const { identity, workerId } = this.options;
    // A finish or a BPMN error refused as a bad request (a result that is not JSON, an error code too long)
    // fails the task with a service error instead, so that it does not come back again and again.
    const reportFailure = (error: unknown): Promise<void> => this.reportServiceError(error);
    switch (outcome.kind) {
      case 'result':
        if (
          await this.call(
            'finishExternalTask',
            () => api.finishExternalTask(identity, workerId, task.id, outcome.result),
            reportFailure,
          )
        ) {
          this.announce({
            name: 'worker:task:finished',
            payload: { workerId, task, result: outcome.result },
          });
        }
        return;
      case 'bpmn': {
        const { code, message } = outcome.error;
        if (
          await this.call(
            'handleBpmnError',
            () => api.handleBpmnError(identity, workerId, task.id, code, message ? cut(message) : undefined),
            reportFailure,
          )
        ) {
          this.announce({
            name: 'worker:task:failed',
            payload: { workerId, task, error: outcome.error, type: 'bpmn', incident: false },
          });
        }
        return;
      }
      case 'service':
        await this.reportServiceError(outcome.error);
        return;
    }
  }

  /**
   * Reports `error` as a service error under the retry policy. If even that is refused as a bad request,
   * reports a short message without details instead, which any service accepts: a task must never come
   * back again and again because its report does not fit. The short report keeps the retry options only
   * when they are within the API's limits, since out-of-range options may be what the service refused.
   * Logs the failure once, with what happens next.
   */
  private async reportServiceError(error: unknown): Promise<void> {
    const { message, details } = describeFailure(error);
    const { identity, workerId } = this.options;
    const planned = planRetry(this.task, this.options.retry, Math.random());
    const send =
      (text: string, errorDetails: FailureDetails | undefined, retry: PlannedRetry | undefined) =>
      (): Promise<void> =>
        retry
          ? this.api.handleServiceError(identity, workerId, this.task.id, text, errorDetails, retry)
          : this.api.handleServiceError(identity, workerId, this.task.id, text, errorDetails);
    const fallbackRetry = planned && isAcceptableRetry(planned) ? planned : undefined;
    // What the recorded report asked for, reported with the `worker:task:failed` event.
    let reportedRetry = planned;
    let shortReported = false;
    const reported = await this.call('handleServiceError', send(message, details, planned), async () => {
      reportedRetry = fallbackRetry;
      shortReported = await this.call(
        'handleServiceError',
        send(unreportableFailure, undefined, fallbackRetry),
      );
    });
    const recorded = reported || shortReported;
    // As the store decides: retry options without retries left, or none on a task with a budget of its own.
    const incident = reportedRetry ? reportedRetry.retries === 0 : this.task.retries !== undefined;
    logFailedRun(this.options.logger, {
      workerId,
      task: this.task,
      message,
      recorded,
      retry: reportedRetry,
      incident,
    });
    if (recorded) {
      this.announce({
        name: 'worker:task:failed',
        payload: { workerId, task: this.task, error, type: 'service', retry: reportedRetry, incident },
      });
    }
  }

  /**
   * Makes one report; answers whether it was recorded. A failure becomes a `worker:error` event; when the report
   * is refused as a bad request (400), `onRefused` gets the error.
   */
  private async call(
    operation: ReportOperation,
    send: () => Promise<void>,
    onRefused?: (error: unknown) => Promise<void>,
  ): Promise<boolean> {
    try {
      await send();
      return true;
    } catch (error) {
      this.options.logger.error(`${operation} failed; the task is fetched again once its lock expires.`, {
        externalTaskId: this.task.id,
        error,
      });
      this.announce({
        name: 'worker:error',
        payload: {
          workerId: this.options.workerId,
          error,
          context: { type: 'report', operation, task: this.task },
        },
      });
      if ((error as { status?: unknown } | null)?.status === 400) await onRefused?.(error);
      return false;
    }
  }
}

/** The message of the last-resort report, when the service refused the error the handler threw. */
const unreportableFailure =
  'The handler failed, and the service refused the report of its error as a bad request.';

/** Whether the API accepts these retry options: whole numbers from 0 up to its limits. */
function isAcceptableRetry({ retries, retryTimeout }: PlannedRetry): boolean {
  return isIntegerWithin(retries, limits.maxRetries) && isIntegerWithin(retryTimeout, limits.maxDuration);
}

function isIntegerWithin(value: number, max: number): boolean {
  return Number.isSafeInteger(value) && value >= 0 && value <= max;
}

/**
 * `value` as an error message the API accepts: a string (an error's `name` or `message` may be anything)
 * of at most {@link limits.maxMessageLength} characters, cut between two code points, with a NUL
 * character or an unpaired surrogate (which the API refuses, so that the report would lose the
 * handler's message) replaced by U+FFFD.
 */
function cut(value: unknown): string {
  let text: string;
  try {
    text = String(value);
  } catch {
    text = typeof value; // an object whose toString throws
  }
  let end = Math.min(text.length, limits.maxMessageLength);
  // Not between the two halves of a surrogate pair: the first half alone would be refused.
  if (end < text.length && /[\ud800-\udbff]/.test(text.charAt(end - 1))) end--;
  return storableText(text.slice(0, end));
}

/** The details of a service error: the error's name and stack, each cut like a message. */
interface FailureDetails {
  readonly name: string;
  readonly stack?: string;
}

/**
 * The message and details a service error is reported with: the error's message and `{ name, stack }`,
 * each cut to {@link limits.maxMessageLength} characters, which keeps the details far below
 * {@link limits.maxJsonBytes}.
 */
function describeFailure(error: unknown): { message: string; details?: FailureDetails } {
  if (error instanceof Error) {
    const details = {
      name: cut(error.name),
      ...(typeof error.stack === 'string' && { stack: cut(error.stack) }),
    };
    return { message: cut(error.message || error.name || 'Error'), details };
  }
  let text: string;
  try {
    text = String(error);
  } catch {
    text = Object.prototype.toString.call(error);
  }
  return { message: cut(text || 'The handler threw an empty value.') };
}
