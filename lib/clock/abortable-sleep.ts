import type { Clock } from './clock.js';

/**
 * Resolves after `delayMs` on `clock`, or as soon as `signal` aborts (never rejects). Either way it leaves
 * neither a timer nor an abort listener behind.
 */
export function abortableSleep(clock: Clock, delayMs: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const end = (): void => {
      clock.clearTimeout(timer);
      signal.removeEventListener('abort', end);
      resolve();
    };
    const timer = clock.setTimeout(end, delayMs);
    signal.addEventListener('abort', end, { once: true });
  });
}
