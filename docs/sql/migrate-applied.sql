-- Built by lib/postgres/sql/migrate.ts (migrateStatements.applied).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

SELECT version FROM "external_tasks".migrations ORDER BY version;
