-- Built by lib/postgres/sql/migrate.ts (migrateStatements.lock).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

SELECT pg_advisory_xact_lock(hashtext('external-task-api'), hashtext('external_tasks:migrate'));
