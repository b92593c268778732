import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Driver, Listening, NotificationHandlers, Queryable } from './driver.js';

/** Connection settings of a pool the driver creates itself. */
export interface PgPoolSettings {
  readonly connectionString: string;
  readonly poolSize: number;
  readonly statementTimeout: number;
  readonly applicationName: string;
  /** Receives errors of idle pool connections (a server restart, a terminated backend). */
  readonly onIdleError: (error: Error) => void;
}

/** How long to wait for a connection before a statement fails, rather than hang. */
const connectionTimeoutMs = 10_000;

/** Runs statements on a `pg` pool; LISTENs on a connection taken out of the pool for good. */
export class PgDriver implements Driver {
  /**
   * Names of prepared statements, one per statement text (a hash of it, so that stores sharing a pool
   * never give one name to two texts): each connection plans a statement once and reuses the plan (the
   * claim's planning costs as much as its execution).
   */
  private readonly names = new Map<string, string>();

  private constructor(
    private readonly pool: pg.Pool,
    private readonly owned: { readonly onIdleError: (error: Error) => void } | undefined,
  ) {}

  /** A driver on a pool of its own, ended by {@link close}. */
  static create(settings: PgPoolSettings): PgDriver {
    const pool = new pg.Pool({
      connectionString: settings.connectionString,
      max: settings.poolSize,
      statement_timeout: settings.statementTimeout,
      // A connection that died without telling (a network partition) must not hold a caller forever.
      query_timeout: settings.statementTimeout + connectionTimeoutMs,
      connectionTimeoutMillis: connectionTimeoutMs,
      application_name: settings.applicationName,
    });
    pool.on('error', settings.onIdleError);
    return new PgDriver(pool, { onIdleError: settings.onIdleError });
  }

  /** A driver on the caller's pool, which it never ends. */
  static onPool(pool: pg.Pool): PgDriver {
    return new PgDriver(pool, undefined);
  }

  async query<Row>(text: string, params: readonly unknown[] = []): Promise<Row[]> {
    const result = await this.pool.query({ name: this.nameOf(text), text, values: params as unknown[] });
    return result.rows as Row[];
  }

  async transaction<T>(body: (transaction: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: unknown;
    try {
      await client.query('BEGIN');
      const answer = await body({
        query: async <Row>(text: string, params: readonly unknown[] = []) =>
          (await client.query(text, params as unknown[])).rows as Row[],
      });
      await client.query('COMMIT');
      return answer;
    } catch (error) {
      broken = await client.query('ROLLBACK').then(
        () => undefined,
        (rollbackError: unknown) => rollbackError,
      );
      throw error;
    } finally {
      // A connection whose ROLLBACK failed is in an unknown state: the pool must not hand it out again.
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  async listen(channel: string, handlers: NotificationHandlers): Promise<Listening> {
    const client = await this.pool.connect();
    let closed = false;
    const lost = (error: unknown): void => {
      if (closed) return;
      closed = true;
      client.release(error instanceof Error ? error : new Error(String(error)));
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
        client.release(true);
        await Promise.resolve();
      },
    };
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
