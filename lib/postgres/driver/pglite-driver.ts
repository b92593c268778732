import AsyncLock from 'async-lock';
import type { Driver, Listening, NotificationHandlers, Queryable } from './driver.js';
import type { PgliteInstance } from './pglite-instance.js';

/**
 * Runs statements on an embedded PGlite: one connection for everything, so statements and transactions
 * are serialized (a transaction holds the connection until it ends). LISTEN is in-process and is never
 * lost. The PGlite belongs to the caller and is never closed here.
 */
export class PgliteDriver implements Driver {
  private readonly lock = new AsyncLock();

  constructor(private readonly pglite: PgliteInstance) {}

  query<Row>(text: string, params: readonly unknown[] = []): Promise<Row[]> {
    return this.lock.acquire('connection', async () => {
      const result = await this.pglite.query<Row>(text, params as unknown[]);
      return result.rows;
    });
  }

  /** PGlite's statements with parameters are unnamed, so each is planned for its values anyway. */
  queryPlannedForValues<Row>(text: string, params?: readonly unknown[]): Promise<Row[]> {
    return this.query<Row>(text, params);
  }

  transaction<T>(body: (transaction: Queryable) => Promise<T>): Promise<T> {
    return this.lock.acquire('connection', () =>
      this.pglite.transaction((transaction) =>
        body({
          query: async <Row>(text: string, params: readonly unknown[] = []) =>
            (await transaction.query<Row>(text, params as unknown[])).rows,
        }),
      ),
    );
  }

  async listen(channel: string, handlers: NotificationHandlers): Promise<Listening> {
    const unlisten = await this.pglite.listen(channel, (payload) => handlers.onNotification(payload));
    let closed = false;
    return {
      close: async () => {
        if (closed) return;
        closed = true;
        await unlisten();
      },
    };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
