-- Built by lib/postgres/sql/consumer-leases.ts (consumerLeaseStatements.release).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

UPDATE "external_tasks".consumers SET holder = NULL, lease_expires_at = NULL, position = greatest(position, $3::bigint)
WHERE name = $1 AND holder = $2
RETURNING true AS released;
