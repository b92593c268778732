import type { SqlNames } from './names.js';

/** The statements that run the migrations, all inside one transaction. */
export function migrateStatements({ schema: s, name }: SqlNames) {
  return {
    /**
     * Serializes concurrent `migrate()` calls of every process on this schema: the second waits, then
     * finds the versions applied (the lock is the transaction's; the schema may not exist yet).
     */
    lock: `SELECT pg_advisory_xact_lock(hashtext('external-task-api'), hashtext('${name}:migrate'))`,
    createSchema: `CREATE SCHEMA IF NOT EXISTS ${s}`,
    createVersions: `CREATE TABLE IF NOT EXISTS ${s}.migrations (
      version integer PRIMARY KEY,
      description text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`,
    /** Answers `version` of every applied migration. */
    applied: `SELECT version FROM ${s}.migrations ORDER BY version`,
    /** $1 version, $2 description. */
    record: `INSERT INTO ${s}.migrations (version, description) VALUES ($1, $2)`,
  };
}
