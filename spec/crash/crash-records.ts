/**
 * What the processes of the crash loops leave in their journals (see `journal.ts`), read by the checks
 * after each round. Times are the machine's clock in ms, the clock the test's own server stamps locks with.
 */

/**
 * A line of a worker process's handler log: what one handler run of one task did, as it happened —
 * `start` (the handler was called), `end` (it settled: `how` it did), `reported` (the store acknowledged
 * its outcome: a finish, a BPMN error or a service error), `reportFailed` (reporting failed: refused, or
 * the store was away, and the worker dropped the outcome).
 */
export interface HandlerLine {
  readonly e: 'start' | 'end' | 'reported' | 'reportFailed';
  readonly task: string;
  readonly worker: string;
  /** The lock expiry the run's fetch answered: with the task and the worker, it names the run. */
  readonly lock: number;
  readonly at: number;
  /** On `end`: the handler returned, threw (an error to report), or saw its signal abort. */
  readonly how?: 'returned' | 'threw' | 'aborted';
}

/** A line of the engine's outcome journal: one outcome handled, and the position to resume after. */
export interface OutcomeLine {
  readonly task: string;
  readonly position: number;
  readonly state: string;
  /** Which life of the engine process handled it. */
  readonly life: number;
}

/** What a process of the crash loops tells its parent once it runs. */
export interface ReadyMessage {
  readonly type: 'ready';
}

/** Worker ids name their process and its life: `p<process>.l<life>.w<worker>`. */
export function workerIdOf(processIndex: number, life: number, worker: number): string {
  return `p${processIndex}.l${life}.w${worker}`;
}

/** The process and life a worker id names (see {@link workerIdOf}). */
export function processLifeOf(workerId: string): string {
  return workerId.slice(0, workerId.lastIndexOf('.'));
}

/**
 * A line of the PGlite writer's journal: `begin` before each write (so a kill that lands before its
 * acknowledgement is known), then what the store acknowledged.
 */
export type WriteLine =
  | { readonly op: 'begin'; readonly write: 'lock' | 'outcome' }
  /** Before a create: the idempotency keys of the tasks it creates. */
  | { readonly op: 'begin'; readonly write: 'create'; readonly keys: readonly string[] }
  | { readonly op: 'created'; readonly ids: readonly string[] }
  | { readonly op: 'locked'; readonly ids: readonly string[]; readonly worker: string }
  | { readonly op: 'finished'; readonly id: string; readonly result: { readonly n: number } }
  | { readonly op: 'failed'; readonly id: string; readonly type: 'bpmn' | 'service' };
