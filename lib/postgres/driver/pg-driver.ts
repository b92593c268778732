import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Driver, Listening, NotificationHandlers, Queryable } from './driver.js';

/** Connection settings of a pool the driver creates itself. */
export interface PgPoolSettings {
  readonly connectionString: string;
  readonly poolSize: number;
  readonly statementTimeout: number;
  readonly applicationName: string;
  /** `synchronous_commit` of the pool's connections (the server's default when true). */
  readonly synchronousCommit: boolean;
  /** Receives errors of idle pool connections (a server restart, a terminated backend). */
  readonly onIdleError: (error: Error) => void;
}

/** How long to wait for a connection before a statement fails, rather than hang. */
const connectionTimeoutMs = 10_000;
/**
 * TCP keep-alive after this much idle time, so that a connection to a server that vanished without
 * closing it (a network partition, a host that died) is found dead — above all the LISTEN connection,
 * which otherwise waits for notifications forever.
 */
const keepAliveInitialDelayMs = 10_000;

/** Runs statements on a `pg` pool; LISTENs on a connection taken out of the pool for good. */
export class PgDriver implements Driver {
  /**
   * Names of prepared statements, one per statement text (a hash of it, so that stores sharing a pool
   * never give one name to two texts): each connection plans a statement once and reuses the plan (the
   * claim's planning costs as much as its execution; see `sessionSettings` for why the plan is generic).
   */
  private readonly names = new Map<string, string>();

  private constructor(
    private readonly pool: pg.Pool,
    private readonly owned: PgPoolSettings | undefined,
  ) {}

  /**
   * A driver on a pool of its own, ended by {@link close}. Its LISTEN connection is a client of its
   * own beside the pool, so that `poolSize` connections stay for statements.
   */
  static create(settings: PgPoolSettings): PgDriver {
    // `query_timeout` of one query: read by pg, not in its types.
    const settingsQuery: pg.QueryConfig & { query_timeout: number } = {
      text: sessionSettings(settings.synchronousCommit),
      query_timeout: connectionTimeoutMs,
    };
    const pool = new pg.Pool({
      ...connectionConfig(settings),
      max: settings.poolSize,
      statement_timeout: settings.statementTimeout,
      // A connection that died without telling (a network partition) must not hold a caller forever;
      // with no statement timeout (0), no statement is cut short here either.
      ...(settings.statementTimeout > 0 && {
        query_timeout: settings.statementTimeout + connectionTimeoutMs,
      }),
      // Run on each new connection before the pool hands it out: pg-pool awaits the promise (its type
      // says void); a failure ends the connection and fails the checkout. The connection timeout no
      // longer runs then, so the statement has one of its own.
      // eslint-disable-next-line @typescript-eslint/no-misused-promises
      onConnect: (client: pg.ClientBase) => client.query(settingsQuery),
    });
    pool.on('error', settings.onIdleError);
    return new PgDriver(pool, settings);
  }

  /** A driver on the caller's pool, which it never ends. */
  static onPool(pool: pg.Pool): PgDriver {
    return new PgDriver(pool, undefined);
  }

  async query<Row>(text: string, params: readonly unknown[] = []): Promise<Row[]> {
    const result = await this.pool.query({ name: this.nameOf(text), text, values: params as unknown[] });
    return result.rows as Row[];
  }

  /**
   * The operator's reads filter on skewed columns (a state, a topic) with `= ANY($n)`; a generic plan,
   * which cannot know how many rows a value matches, scanned the whole table. Such a read runs in a
   * transaction of its own with `plan_cache_mode = force_custom_plan` (three more round trips, on reads
   * that are rare).
   */
  queryPlannedForValues<Row>(text: string, params: readonly unknown[] = []): Promise<Row[]> {
    return this.transaction(async (transaction) => {
      await transaction.query('SET LOCAL plan_cache_mode = force_custom_plan');
      return transaction.query<Row>(text, params);
    });
  }

  async transaction<T>(body: (transaction: Queryable) => Promise<T>): Promise<T> {
    // A checked-out client has no listener for the errors of its connection (the pool's is for idle
    // clients): a backend ended while the transaction holds it would otherwise be an uncaught 'error'
    // event. The statement in flight rejects on its own; the connection must not go back to the pool.
    let broken: unknown;
    const onError = (error: Error): void => void (broken ??= error);
    const client = await this.checkOut(onError);
    try {
      await client.query('BEGIN');
      const answer = await body({
        query: async <Row>(text: string, params: readonly unknown[] = []) =>
          (await client.query(text, params as unknown[])).rows as Row[],
      });
      await client.query('COMMIT');
      return answer;
    } catch (error) {
      // An error of the client, not of the server (no SQLSTATE: a read timeout while the statement still
      // runs, a lost connection), leaves the connection out of step: a ROLLBACK sent on it could be
      // answered by the old statement. Discarded, the server rolls the transaction back itself.
      if (broken === undefined && !isServerError(error)) broken = error;
      // A connection whose ROLLBACK failed is in an unknown state: the pool must not hand it out again.
      if (broken === undefined) {
        broken = await client.query('ROLLBACK').then(
          () => undefined,
          (rollbackError: unknown) => rollbackError,
        );
      }
      throw error;
    } finally {
      client.off('error', onError);
      client.release(broken === undefined ? undefined : toError(broken));
    }
  }

  /**
   * A client of the pool with `onError` listening to it from the moment it is handed over. The pool
   * hands a released client to the next waiter synchronously, while the data of its connection is still
   * being parsed: the error of a backend ended right after the previous statement (in the same packet)
   * comes before a promise's continuation could listen, and would be an uncaught 'error' event. The
   * callback form of `connect` runs at the hand-over.
   */
  private checkOut(onError: (error: Error) => void): Promise<pg.PoolClient> {
    return new Promise((resolve, reject) => {
      this.pool.connect((error, client) => {
        if (error || !client) return reject(error ?? new Error('The pool handed out no client.'));
        client.on('error', onError);
        resolve(client);
      });
    });
  }

  async listen(channel: string, handlers: NotificationHandlers): Promise<Listening> {
    const { client, release } = await this.listeningClient();
    let closed = false;
    const lost = (error: unknown): void => {
      if (closed) return;
      closed = true;
      void release(toError(error));
      handlers.onLost(error);
    };
    client.on('notification', (message) => {
      if (message.channel === channel) handlers.onNotification(message.payload ?? '');
    });
    client.on('error', lost);
    client.on('end', () => lost(new Error('The LISTEN connection ended.')));
    try {
      await client.query(`LISTEN "${channel}"`);
    } catch (error) {
      lost(error);
      throw error;
    }
    return {
      close: async () => {
        if (closed) return;
        closed = true;
        // The connection is not given back to the pool: it still LISTENs. Ending it is simplest.
        await release(true);
      },
    };
  }

  /**
   * The connection to LISTEN on: a client of its own for a pool the driver created (ended on release),
   * one taken out of the caller's pool otherwise. Its connection errors are the caller's to handle.
   */
  private async listeningClient(): Promise<{
    readonly client: pg.ClientBase;
    readonly release: (error?: Error | boolean) => Promise<void>;
  }> {
    // Until the caller listens, an error of the connection must not be an uncaught 'error' event; one
    // it swallows makes the LISTEN fail (the connection is no longer queryable), which the caller sees.
    const early = (): void => undefined;
    if (!this.owned) {
      const pooled = await this.checkOut(early);
      return {
        client: pooled,
        release: (error) => {
          pooled.release(error);
          return Promise.resolve();
        },
      };
    }
    const client = new pg.Client(connectionConfig(this.owned));
    client.on('error', early);
    let ended: Promise<void> | undefined;
    const end = (): Promise<void> => (ended ??= client.end().catch(() => undefined));
    try {
      await client.connect();
    } catch (error) {
      await end();
      throw error;
    }
    return { client, release: end };
  }

  private nameOf(text: string): string {
    let name = this.names.get(text);
    if (name === undefined) {
      name = `external-task-api-${createHash('sha1').update(text).digest('hex')}`;
      this.names.set(text, name);
    }
    return name;
  }

  async close(): Promise<void> {
    if (!this.owned) return;
    await this.pool.end();
    this.pool.off('error', this.owned.onIdleError);
  }
}

/** What every connection the driver opens itself is given: where, its name, and its time limits. */
function connectionConfig(settings: PgPoolSettings): pg.ClientConfig {
  return {
    connectionString: settings.connectionString,
    application_name: settings.applicationName,
    connectionTimeoutMillis: connectionTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: keepAliveInitialDelayMs,
  };
}

/**
 * The session settings of the connections of the driver's own pool, as one statement run when a
 * connection opens (not as the `options` connection parameter, which an `options` in the connection
 * string or the PGOPTIONS environment variable of the caller would replace, or be replaced by):
 * - `plan_cache_mode = force_generic_plan`: the statements are named prepared statements, and with the
 *   default (`auto`) PostgreSQL planned the claim anew at every run (its plan for the given values
 *   looked cheaper than the generic one), which cost about as much as running it. The generic plans of
 *   the claim and the writes are the same index range scans and primary-key lookups
 *   (docs/postgres-plans.md shows them on a table of 1,000,000 final rows); the reads whose best plan
 *   depends on their values are planned for them (`queryPlannedForValues`).
 * - `jit = off`: a generic plan's row estimates do not know the LIMIT, so on a large table its cost passes
 *   `jit_above_cost` and each run compiled its expressions first, many times the claim's own cost
 *   (docs/postgres-plans.md).
 * - `synchronous_commit = off` when the store was asked for it.
 */
function sessionSettings(synchronousCommit: boolean): string {
  const settings = ['plan_cache_mode = force_generic_plan', 'jit = off'];
  if (!synchronousCommit) settings.push('synchronous_commit = off');
  return settings.map((setting) => `SET ${setting};`).join(' ');
}

/** Whether the server answered `error` (an ErrorResponse), so the connection is still in step. */
function isServerError(error: unknown): boolean {
  return error instanceof pg.DatabaseError;
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
