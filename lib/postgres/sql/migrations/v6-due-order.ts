import type { Migration } from './migration.js';

/**
 * Version 6: the tasks that wait for a time (locks, retries) in hand-out order, per topic. A claim walks
 * a bounded stretch of it when many tasks are due at once (a fleet of workers died and their locks
 * expired), instead of sorting every due task (see `claim-candidates.ts`). Its predicate names the two
 * times (`available_at` is their coalesce) rather than `available_at`, so that no other statement can
 * use it: a claim's `available_at <= now` must read `tasks_waiting`, a range that stops at now, and with
 * this index at hand a generic plan walked every lock still held instead (100,000 entries, 22 ms per
 * claim). Adding an index leaves the statements of a process of version 5 as they were.
 */
export const dueOrder: Migration = {
  version: 6,
  description: 'index of the waiting tasks in hand-out order',
  statements: ({ schema: s }) => [
    `CREATE INDEX tasks_waiting_order ON ${s}.tasks (topic, priority DESC, sequence)
      WHERE state = 'pending' AND (lock_expires_at IS NOT NULL OR retry_at IS NOT NULL)`,
  ],
};
