-- Built by lib/postgres/sql/migrate.ts (migrateStatements.record).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

INSERT INTO "external_tasks".migrations (version, description) VALUES ($1, $2);
