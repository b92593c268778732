-- Built by lib/postgres/sql/migrate.ts (migrateStatements.createSchema).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

CREATE SCHEMA IF NOT EXISTS "external_tasks";
