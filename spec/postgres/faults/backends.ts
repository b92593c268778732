import { expect } from 'chai';
import type pg from 'pg';

/** Waits (a real-time bound, polling) until `done()` holds; fails naming `what` after `ms`. */
export async function eventually(
  done: () => boolean | Promise<boolean>,
  what: string | (() => string),
  ms = 15_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) expect.fail(`gave up waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Which backends of `applicationName` to end: its LISTEN connection, its pool's, or all of them. */
export type Backends = 'listen' | 'pool' | 'all';

const condition: Record<Backends, string> = {
  listen: `AND query LIKE 'LISTEN%'`,
  pool: `AND query NOT LIKE 'LISTEN%'`,
  all: '',
};

/** `pg_terminate_backend` of the chosen backends of `applicationName`; answers how many were ended. */
export async function terminateBackends(
  admin: pg.Pool,
  applicationName: string,
  which: Backends,
): Promise<number> {
  const { rows } = await admin.query<{ ended: boolean }>(
    `SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity
     WHERE application_name = $1 AND pid <> pg_backend_pid() ${condition[which]}`,
    [applicationName],
  );
  return rows.filter((row) => row.ended).length;
}

/** How many backends of `applicationName` are connected (of the chosen kind). */
export async function countBackends(
  admin: pg.Pool,
  applicationName: string,
  which: Backends,
): Promise<number> {
  const { rows } = await admin.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 ${condition[which]}`,
    [applicationName],
  );
  return rows[0]?.n ?? 0;
}
