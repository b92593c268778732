import type { Migration } from './migration.js';

/**
 * Version 10: named consumers — a stored position and a lease per name, for `consumeOutcomes({ consumer })`
 * (statements in `consumer-leases.ts`). A new table, read and written by its key only; it touches no other
 * table, so a process of version 9 goes on working beside it.
 */
export const consumerLeases: Migration = {
  version: 10,
  description: 'named consumers: a stored position and a lease per name',
  statements: ({ schema: s }) => [
    `CREATE TABLE ${s}.consumers (
      -- The name the replicas of one consumer share.
      name text PRIMARY KEY,
      -- The position of the last change the consumer handled; NULL until one is stored (a name's first
      -- start begins at the oldest retained change).
      position bigint CHECK (position >= 0),
      -- The consumption that holds the lease; NULL: nobody (released).
      holder text,
      -- When the lease runs out, by the store's clock.
      lease_expires_at timestamptz
    )`,
  ],
};
