-- Built by lib/postgres/sql/consumer-leases.ts (consumerLeaseStatements.acquire).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

INSERT INTO "external_tasks".consumers AS c (name, holder, lease_expires_at) VALUES ($2, $3, "external_tasks".clock($1) + $4::bigint * interval '1 millisecond')
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, lease_expires_at = excluded.lease_expires_at
WHERE c.holder IS NULL OR c.holder = excluded.holder OR c.lease_expires_at <= "external_tasks".clock($1)
RETURNING c.position::float8 AS position;
