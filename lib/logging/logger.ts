import { debuglog, inspect } from 'node:util';

/**
 * Where the library reports what it cannot throw to a caller (e.g. a failing event listener, a handler
 * that failed in a worker). `details` holds structured fields (`externalTaskId`, `topic`, `error`, …) for
 * loggers that keep them apart, such as pino's or winston's.
 */
export interface Logger {
  error(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  /** What helps to find a cause but would clutter the log (e.g. the stack of a failed fetch), if kept. */
  debug?(message: string, details?: Record<string, unknown>): void;
}

/** The methods a {@link Logger} must have, which every owner of a logger option checks. */
export const loggerMethods = ['error', 'warn'] as const;

/** `message`, then the details on the same line (an error among them still prints its stack). */
function line(message: string, details: Record<string, unknown> | undefined): string {
  const fields = details === undefined ? '' : ` ${inspect(details, { breakLength: Infinity })}`;
  return `[external-task-api] ${message}${fields}`;
}

const debugLine = debuglog('external-task-api');

/**
 * The default logger: one line per report, to `console.error` and `console.warn`; debug reports to
 * stderr only when `NODE_DEBUG` names `external-task-api`.
 */
export const consoleLogger: Logger = {
  error: (message, details) => console.error(line(message, details)),
  warn: (message, details) => console.warn(line(message, details)),
  debug: (message, details) => debugLine('%s', line(message, details)),
};
