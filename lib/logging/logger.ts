/** Where the library reports what it cannot throw to a caller (e.g. a failing event listener). */
export interface Logger {
  error(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
}

/** The default logger: writes to `console.error` and `console.warn`. */
export const consoleLogger: Logger = {
  error: (message, details) => console.error(`[external-task-api] ${message}`, details ?? ''),
  warn: (message, details) => console.warn(`[external-task-api] ${message}`, details ?? ''),
};
