import { StateWatch } from './state-watch.js';

/**
 * The worker's handler slots: at most `concurrency` jobs run at once; a job given when none is free waits
 * for one, in order. The poll loop asks for no more tasks than it has room for, so jobs wait only when a
 * service answers more tasks than it was asked for, and a slow handler never delays the next fetch for
 * the others.
 *
 * A job may leave a trailing promise behind (a handler's report): its slot is free for the next job at
 * once, and {@link onIdle} waits for the trailing work too.
 *
 * Its bookkeeping is synchronous and every change is announced on `watch`.
 */
export class TaskSlots {
  private runningJobs = 0;
  private trailingJobs = 0;
  private readonly waitingJobs: (() => void)[] = [];

  /**
   * @param onFree - Called whenever a slot is given back and no job waits for it, before `watch` hears of
   *   the change: the worker fills the slot from its buffer there, so that waiters see it taken.
   */
  constructor(
    readonly concurrency: number,
    private readonly watch: StateWatch = new StateWatch(),
    private readonly onFree: () => void = () => undefined,
  ) {}

  /** Slots taken: running jobs and any waiting to start. */
  get taken(): number {
    return this.runningJobs + this.waitingJobs.length;
  }

  /** Slots free for new tasks. */
  get free(): number {
    return Math.max(0, this.concurrency - this.taken);
  }

  /** Trailing work still in progress: the jobs that ended, leaving a promise behind that has not settled. */
  get trailing(): number {
    return this.trailingJobs;
  }

  /**
   * Runs `job` in a slot, at once if one is free; settles as `job` does. A `trailing` promise the job
   * answers goes on outside the slot: {@link onIdle} waits for it.
   */
  run(job: () => Promise<{ trailing?: Promise<void> } | void>): Promise<void> {
    return new Promise((resolve, reject) => {
      const start = (): void => {
        this.runningJobs++;
        let running: Promise<{ trailing?: Promise<void> } | void>;
        try {
          running = job();
        } catch (error) {
          running = Promise.reject(error);
        }
        running.then(
          (ended) => {
            if (ended?.trailing) this.trail(ended.trailing);
            this.release();
            resolve();
          },
          (error: unknown) => {
            this.release();
            reject(error);
          },
        );
      };
      if (this.runningJobs < this.concurrency) start();
      else this.waitingJobs.push(start);
    });
  }

  /** Resolves when no job runs, waits or trails. */
  onIdle(): Promise<void> {
    return this.watch.until(() => this.taken === 0 && this.trailingJobs === 0);
  }

  private trail(work: Promise<void>): void {
    this.trailingJobs++;
    const end = (): void => {
      this.trailingJobs--;
      this.watch.changed();
    };
    work.then(end, end);
  }

  private release(): void {
    this.runningJobs--;
    const waiting = this.waitingJobs.shift();
    if (waiting) waiting();
    else this.onFree();
    this.watch.changed();
  }
}
