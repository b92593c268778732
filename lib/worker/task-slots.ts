/**
 * The worker's handler slots: at most `concurrency` jobs run at once; a job given when none is free waits
 * for one, in order. The poll loop asks for as many tasks as slots are free and waits for a slot when
 * none is, so jobs wait only when a service answers more tasks than it was asked for, and a slow handler
 * never delays the next fetch for the others.
 *
 * Its bookkeeping is synchronous and its promises are plain promise jobs: no `queueMicrotask`,
 * `process.nextTick` or timer, so fake timers (sinon's default set fakes the first two) cannot stall it.
 */
export class TaskSlots {
  private runningJobs = 0;
  private readonly waitingJobs: (() => void)[] = [];
  /** Called whenever a slot is given back. */
  private readonly onRelease = new Set<() => void>();

  constructor(readonly concurrency: number) {}

  /** Slots taken: running jobs and any waiting to start. */
  get taken(): number {
    return this.runningJobs + this.waitingJobs.length;
  }

  /** Slots free for new tasks. */
  get free(): number {
    return Math.max(0, this.concurrency - this.taken);
  }

  /** Runs `job` in a slot, at once if one is free; settles as `job` does. */
  run(job: () => Promise<void>): Promise<void> {
    return new Promise((resolve, reject) => {
      const start = (): void => {
        this.runningJobs++;
        let running: Promise<void>;
        try {
          running = job();
        } catch (error) {
          running = Promise.reject(error);
        }
        void running.then(resolve, reject).finally(() => this.release());
      };
      if (this.runningJobs < this.concurrency) start();
      else this.waitingJobs.push(start);
    });
  }

  /** Resolves once a slot is free, or at once when `signal` aborts; leaves no listener behind. */
  waitForFree(signal: AbortSignal): Promise<void> {
    return this.waitUntil(() => this.free > 0, signal);
  }

  /** Resolves when no job runs or waits. */
  onIdle(): Promise<void> {
    return this.waitUntil(() => this.taken === 0);
  }

  private release(): void {
    this.runningJobs--;
    this.waitingJobs.shift()?.();
    for (const listener of [...this.onRelease]) listener();
  }

  /** Resolves once `condition` holds (checked now and at each release), or when `signal` aborts. */
  private waitUntil(condition: () => boolean, signal?: AbortSignal): Promise<void> {
    if (condition() || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const end = (): void => {
        this.onRelease.delete(check);
        signal?.removeEventListener('abort', end);
        resolve();
      };
      const check = (): void => {
        if (condition()) end();
      };
      this.onRelease.add(check);
      signal?.addEventListener('abort', end, { once: true });
    });
  }
}
