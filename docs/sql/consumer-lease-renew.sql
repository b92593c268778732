-- Built by lib/postgres/sql/consumer-leases.ts (consumerLeaseStatements.renew).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

UPDATE "external_tasks".consumers SET lease_expires_at = "external_tasks".clock($1) + $4::bigint * interval '1 millisecond', position = greatest(position, $5::bigint)
WHERE name = $2 AND holder = $3
RETURNING true AS renewed;
