import type { Logger } from '../logging/index.js';
import type { ExternalTask } from '../model/index.js';
import type { PlannedRetry } from './retry-policy.js';

/** The longest part of a handler's error message a log line quotes (its first line, cut). */
const quotedLength = 200;

/** What became of a handler that threw anything but a `BpmnError`. */
export interface FailedRun {
  readonly workerId: string;
  readonly task: ExternalTask;
  /** The message of what the handler threw. */
  readonly message: string;
  /** Whether the service error was recorded; when not, the report's own failure is logged apart. */
  readonly recorded: boolean;
  /** The retry options the recorded report carried. */
  readonly retry: PlannedRetry | undefined;
  /** Whether the report used up the task's retries. */
  readonly incident: boolean;
}

/**
 * Logs a failed handler run in one line (no stack: the report stored it as the task's error details, and
 * the `worker:task:failed` event carries the error): the task, its topic, what failed, and what happens
 * next. A retry is a warning; a task that failed for good, or whose failure could not be reported, an
 * error.
 */
export function logFailedRun(logger: Logger, run: FailedRun): void {
  const { task, workerId } = run;
  const text = `The handler of external task ${task.id} (topic ${task.topic}) failed: ${quote(run.message)}`;
  const details = { externalTaskId: task.id, topic: task.topic, workerId, attempts: task.attempts };
  if (run.retry && run.retry.retries > 0 && run.recorded) {
    logger.warn(
      `${text} It is retried in ${run.retry.retryTimeout} ms (${run.retry.retries} ${run.retry.retries === 1 ? 'retry' : 'retries'} left).`,
      details,
    );
  } else {
    logger.error(`${text} ${nextStep(run)}`, details);
  }
}

function nextStep({ recorded, incident }: FailedRun): string {
  if (!recorded) return 'Reporting the failure failed too: the task is fetched again once its lock expires.';
  if (incident) {
    return 'No retries are left: the task failed as an incident, which the engine resolves with setRetries.';
  }
  return 'The task failed (the worker retries no task: set its `retry` option to retry).';
}

/** The first line of `message`, cut to {@link quotedLength} characters, in quotes, with a full stop. */
export function quote(message: string): string {
  const firstLine = message.split('\n', 1)[0] ?? '';
  const cut = firstLine.length > quotedLength ? `${firstLine.slice(0, quotedLength)}…` : firstLine;
  return `"${cut}".`;
}
