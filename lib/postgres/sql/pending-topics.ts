import type { SqlNames } from './names.js';

/**
 * The topics that have pending tasks (available now, locked, or waiting for a retry), for the hints a
 * LISTEN connection may have missed while it was away: each such topic is hinted as available now, and
 * a long poll woken by it claims, then learns its next due time from the store. Two index-only scans of
 * the partial indexes `tasks_ready` and `tasks_waiting`; run once per reconnection, not per operation.
 */
export function pendingTopics({ schema: s }: SqlNames): string {
  return `
SELECT topic FROM ${s}.tasks WHERE state = 'pending' AND available_at IS NULL
UNION
SELECT topic FROM ${s}.tasks WHERE state = 'pending' AND available_at IS NOT NULL`;
}
