/**
 * Lets the parts of a worker wait for a condition on its state (a free slot, room for a fetch, nothing
 * left running) without polling: whoever changes that state calls {@link changed}, and every waiter whose
 * condition now holds resolves.
 *
 * Its promises are plain promise jobs: no `queueMicrotask`, `process.nextTick` or timer, so fake timers
 * (sinon's default set fakes the first two) cannot stall it.
 */
export class StateWatch {
  private readonly waiters = new Set<() => void>();

  /** Says the watched state changed: every waiter checks its condition again. */
  changed(): void {
    for (const check of [...this.waiters]) check();
  }

  /** Resolves once `condition` holds (checked now and at each change), or when `signal` aborts; leaves no listener behind. */
  until(condition: () => boolean, signal?: AbortSignal): Promise<void> {
    if (condition() || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const end = (): void => {
        this.waiters.delete(check);
        signal?.removeEventListener('abort', end);
        resolve();
      };
      const check = (): void => {
        if (condition()) end();
      };
      this.waiters.add(check);
      signal?.addEventListener('abort', end, { once: true });
    });
  }
}
