-- Built by lib/postgres/sql/consumer-leases.ts (consumerLeaseStatements.holder).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

SELECT holder, ("external_tasks".ms(lease_expires_at) - "external_tasks".ms("external_tasks".clock($1)))::float8 AS ms
FROM "external_tasks".consumers WHERE name = $2;
