-- Built by lib/postgres/sql/migrations/ (version 10: named consumers: a stored position and a lease per name).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

CREATE TABLE "external_tasks".consumers (
      -- The name the replicas of one consumer share.
      name text PRIMARY KEY,
      -- The position of the last change the consumer handled; NULL until one is stored (a name's first
      -- start begins at the oldest retained change).
      position bigint CHECK (position >= 0),
      -- The consumption that holds the lease; NULL: nobody (released).
      holder text,
      -- When the lease runs out, by the store's clock.
      lease_expires_at timestamptz
    );
