import PQueue from 'p-queue';

/**
 * The worker's handler slots: a p-queue with the worker's concurrency. The poll loop asks for as many
 * tasks as there are free slots and waits for a slot when none is free, so the queue itself never holds
 * waiting tasks and a slow handler never delays the next fetch for the others.
 */
export class TaskSlots {
  private readonly queue: PQueue;

  constructor(readonly concurrency: number) {
    this.queue = new PQueue({ concurrency });
  }

  /** Slots taken: running jobs and any waiting to start. */
  get taken(): number {
    return this.queue.pending + this.queue.size;
  }

  /** Slots free for new tasks. */
  get free(): number {
    return Math.max(0, this.concurrency - this.taken);
  }

  /** Runs `job` in a slot. `job` must not reject (a task run reports its own failures). */
  run(job: () => Promise<void>): Promise<void> {
    return this.queue.add(job);
  }

  /** Resolves once a slot is free, or at once when `signal` aborts; leaves no listener behind. */
  waitForFree(signal: AbortSignal): Promise<void> {
    if (this.free > 0 || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const end = (): void => {
        this.queue.off('next', onNext);
        signal.removeEventListener('abort', end);
        resolve();
      };
      const onNext = (): void => {
        if (this.free > 0) end();
      };
      this.queue.on('next', onNext);
      signal.addEventListener('abort', end, { once: true });
    });
  }

  /** Resolves when no job runs or waits. */
  onIdle(): Promise<void> {
    return this.queue.onIdle();
  }
}
