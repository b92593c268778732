-- Built by lib/postgres/sql/migrate.ts (migrateStatements.createVersions).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

CREATE TABLE IF NOT EXISTS "external_tasks".migrations (
      version integer PRIMARY KEY,
      description text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    );
