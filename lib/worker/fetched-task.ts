import type { ExternalTask } from '../model/index.js';

/**
 * A task a fetch handed to the worker, and when, by the worker's clock: when the fetch answered. The
 * store locked it just before (the answer's transit), so the worker times from then both how long the
 * task may wait in its buffer and when its lock is first extended, as for a task started at once.
 */
export interface FetchedTask {
  readonly task: ExternalTask;
  readonly lockedSince: number;
}
