import type { ManualClock } from '../../clock/index.js';
import type { ExternalTaskRepository } from '../../repository/index.js';

/** What {@link describeRepositoryContract} gives the adapter's factory for each test. */
export interface RepositoryContractContext {
  /**
   * The clock the store must read "now" from. The suite moves it (forwards, and backwards where a case
   * says so); it never fakes the process's `Date` or timers.
   */
  readonly clock: ManualClock;
}

/** A fresh, empty store for one test of the contract suite, and how to release it. */
export interface RepositoryContractTestbed {
  readonly repository: ExternalTaskRepository;
  /** Releases what the store holds (connections, a schema); called after each test. */
  close?(): Promise<void>;
}

/** Builds the test bed of one test; see {@link RepositoryContractContext}. */
export type MakeRepositoryTestbed = (
  context: RepositoryContractContext,
) => RepositoryContractTestbed | Promise<RepositoryContractTestbed>;
