import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { Logger } from '../../lib/logging/index.js';

/** The server the server suites use. */
export const serverUrl = process.env.EXTERNAL_TASK_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A schema name no other test uses. */
export function freshSchema(): string {
  return `et_${randomBytes(6).toString('hex')}`;
}

/** A logger that keeps what it is told (the contract makes subscribers throw on purpose). */
export function quietLogger(): Logger & { readonly messages: string[] } {
  const messages: string[] = [];
  return {
    messages,
    error: (message) => void messages.push(message),
    warn: (message) => void messages.push(message),
  };
}

let serverCheck: Promise<boolean> | undefined;

/** Whether the server answers (asked once per run). */
export function serverReachable(): Promise<boolean> {
  serverCheck ??= (async () => {
    const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return serverCheck;
}

let skipNoticePrinted = false;

/**
 * For a `before` hook of a server suite: skips the suite when the server is unreachable, saying so once
 * and how to enable it — except under `CI=true`, where an unreachable server fails the run.
 */
export async function requireServer(context: Mocha.Context): Promise<void> {
  if (await serverReachable()) return;
  if (process.env.CI === 'true') {
    throw new Error(`PostgreSQL is unreachable at ${serverUrl}; CI must run the server suite.`);
  }
  if (!skipNoticePrinted) {
    skipNoticePrinted = true;
    console.log(
      `  (PostgreSQL server suite skipped: no server at ${serverUrl}. ` +
        'Start one or set EXTERNAL_TASK_PG_URL to run it.)',
    );
  }
  context.skip();
}

/** A pool for what the tests do beside the store (dropping schemas, terminating backends). */
export function adminPool(): pg.Pool {
  return new pg.Pool({ connectionString: serverUrl, max: 2 });
}

let shared: Promise<PGlite> | undefined;

/** The one PGlite of a test run: it takes seconds to open, so every PGlite test shares it. */
export function sharedPglite(): Promise<PGlite> {
  shared ??= PGlite.create();
  return shared;
}

/**
 * For a server `describe`: requires the server (see {@link requireServer}) before its tests and gives
 * them an admin pool, ended after them. Read `.pool` inside hooks and tests.
 */
export function useServerAdmin(): { readonly pool: pg.Pool } {
  const admin = {} as { pool: pg.Pool };
  before(async function () {
    await requireServer(this);
    admin.pool = adminPool();
  });
  after(async () => {
    await admin.pool?.end();
  });
  return admin;
}

/** Drops `schema` on the server through a pool of its own. */
export async function dropServerSchema(schema: string): Promise<void> {
  const admin = adminPool();
  try {
    await dropSchema(admin, schema);
  } finally {
    await admin.end();
  }
}

/** Drops a schema and everything in it. */
export async function dropSchema(
  database: { query(text: string): Promise<unknown> },
  schema: string,
): Promise<void> {
  await database.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

/**
 * Files the tasks a test inserted straight into `tasks` where the store keeps their places (schema
 * version 8: the pending ones in `pending`, the final ones in `ended`, as migration 8 moves a table of
 * version 7), replacing what was filed, and gives the three tables fresh statistics (as autovacuum's would).
 */
export async function fileTaskPlaces(
  database: { query(text: string): Promise<unknown> },
  schema: string,
): Promise<void> {
  const s = `"${schema}"`;
  await database.query(`TRUNCATE ${s}.pending, ${s}.ended`);
  await database.query(
    `INSERT INTO ${s}.pending (id, topic, priority, sequence, tenant_id, process_model_id, worker_id, available_at)
     SELECT id, topic, priority, sequence, tenant_id, process_model_id, worker_id, coalesce(lock_expires_at, retry_at)
     FROM ${s}.tasks WHERE state = 'pending'`,
  );
  await database.query(
    `INSERT INTO ${s}.ended (id, sequence, state, worker_id, finished_at, incident)
     SELECT id, sequence, state, worker_id, finished_at, incident FROM ${s}.tasks WHERE state <> 'pending'`,
  );
  await database.query(`VACUUM ANALYZE ${s}.tasks, ${s}.pending, ${s}.ended`);
}
