import type { Clock } from '../../clock/index.js';
import type { Logger } from '../../logging/index.js';

/** Options of {@link InMemoryExternalTaskRepository}. */
export interface InMemoryExternalTaskRepositoryOptions {
  /** Where "now" comes from (lock expiry, retries, timestamps). @default systemClock */
  readonly clock?: Clock | undefined;
  /** Receives failures of change subscribers and availability listeners. @default consoleLogger */
  readonly logger?: Logger | undefined;
  /**
   * How long a finished, failed or cancelled task is kept after it ended, in ms; then it is forgotten
   * (`getById` answers `undefined`, queries and counts no longer include it). Keeps a long-running
   * process's memory bounded; at most 1,000 years, or `Infinity` to keep final tasks for the life of
   * the store.
   * @default 604,800,000 (7 days)
   */
  readonly finalTaskRetention?: number | undefined;
  /**
   * How many of the latest changes the change feed keeps for subscribers that resume from a position
   * (and for slow subscribers). A resume from further back is refused with
   * `ChangeFeedRetentionError`. A count of changes, not a time. @default 10,000
   */
  readonly changesRetained?: number | undefined;
  /**
   * @deprecated Use `changesRetained`; removed in the next minor version. Giving both is refused with
   * `BadRequestError`.
   */
  readonly changeRetention?: number | undefined;
}
