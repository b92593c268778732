import type { Driver } from './driver/driver.js';
import * as sql from './sql/index.js';

/**
 * Creates the schema or brings it to the latest version: each missing migration once, in order, in one
 * transaction under an advisory lock, so several processes may run it at once. Idempotent.
 */
export function migrateSchema(
  driver: Driver,
  statements: ReturnType<typeof sql.migrateStatements>,
  names: sql.SqlNames,
): Promise<void> {
  const { lock, createSchema, createVersions, applied, record } = statements;
  return driver.transaction(async (transaction) => {
    await transaction.query(lock);
    await transaction.query(createSchema);
    await transaction.query(createVersions);
    const done = new Set((await transaction.query<{ version: number }>(applied)).map((row) => row.version));
    for (const migration of sql.migrations) {
      if (done.has(migration.version)) continue;
      for (const statement of migration.statements(names)) await transaction.query(statement);
      await transaction.query(record, [migration.version, migration.description]);
    }
  });
}
