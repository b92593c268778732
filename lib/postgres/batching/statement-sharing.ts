import { limits } from '../../validation/index.js';

/** How the concurrent claims and writes of one process share statements on one kind of database. */
export interface StatementSharing {
  /**
   * How many statements of one kind (claims, finishes, …) may be in flight at once (claims of one shape:
   * one, see `claimBatcher`).
   */
  readonly inFlight: number;
  /** The most tasks one claim statement hands out (a single larger claim still gets a statement). */
  readonly claimTasks: number;
  /**
   * The most one write statement carries, in units of 4096 characters of a request's JSON (at least
   * one per request).
   */
  readonly writeWeight: number;
}

/**
 * On a server: two statements of a kind at once, so that one executes while another commits, and
 * statements of at most 128 tasks or small writes. When many callers ask at once (16 handlers fetching
 * 16 tasks each), they then go in several statements rather than one, so their callers come back at
 * different times and split into groups: one group's claims run while another's finishes run, on two
 * server processes, instead of every caller waiting for one statement after another in lockstep
 * (the API with 16 handlers fetching 16 tasks each, as bench/postgres-lifecycle.ts runs it, in trials:
 * 7,488 to 7,738 tasks/s against 5,570 to 5,831 with one statement for all, the second claim of a burst
 * waiting for the first as `claimBatcher` has it; 96 to 192 per statement gave the same; 8 per
 * statement, for 16 callers asking for one task each, gains nothing, as each statement's own cost then
 * dominates).
 */
export const serverSharing: StatementSharing = { inFlight: 2, claimTasks: 128, writeWeight: 128 };

/**
 * On PGlite: one statement at a time (it runs one anyway, in this process's thread, so nothing can
 * overlap), and everything queued meanwhile goes in the next, up to the largest claim and 512 small
 * writes or about 2 MiB of results.
 */
export const pgliteSharing: StatementSharing = {
  inFlight: 1,
  claimTasks: limits.maxTasks,
  writeWeight: 512,
};
