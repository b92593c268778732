/** What the PostgreSQL benchmarks share: where the server is, the lock, and small helpers. */
import { randomBytes } from 'node:crypto';
import { PostgresExternalTaskRepository, type PostgresConnection } from '../lib/postgres/index.js';

export const serverUrl = process.env.EXTERNAL_TASK_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const identity = { token: 'bench' };
/** Long enough that no lock expires during a run. */
export const LOCK_MS = 5 * 60 * 1000;
export const silent = { error: () => undefined, warn: () => undefined };

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};
export const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};
/** Seconds since `start` (a `process.hrtime.bigint()`). */
export const seconds = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;
export const log = (line: string): void => console.error(line);

/** The store on `schema`, migrated, logging nothing; `synchronousCommit` is the store's option. */
export async function openStore(
  connection: PostgresConnection,
  schema: string,
  synchronousCommit = true,
): Promise<PostgresExternalTaskRepository> {
  const repository = new PostgresExternalTaskRepository(connection, {
    schema,
    logger: silent,
    synchronousCommit,
  });
  await repository.migrate();
  return repository;
}

/** A fresh migrated schema of the store. */
export async function migratedSchema(connection: PostgresConnection): Promise<string> {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  await (await openStore(connection, schema)).close();
  return schema;
}
