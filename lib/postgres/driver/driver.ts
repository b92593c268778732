/** Runs one statement with parameters; answers its rows. */
export interface Queryable {
  query<Row>(text: string, params?: readonly unknown[]): Promise<Row[]>;
}

/** What the notifications of a {@link Driver.listen} connection go to. */
export interface NotificationHandlers {
  /** A notification on the channel. */
  onNotification(payload: string): void;
  /** The connection was lost; nothing more comes from it. */
  onLost(error: unknown): void;
}

/** An open LISTEN. */
export interface Listening {
  /** Stops listening and releases the connection. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * The little the store needs from a database connection, implemented on `pg` (a pool) and on PGlite (one
 * connection, serialized): statements, transactions, and a dedicated LISTEN connection.
 */
export interface Driver extends Queryable {
  /**
   * Runs a read whose best plan depends on its values (a filter on a skewed column) with a plan made
   * for those values, where the driver's statements are otherwise planned generically.
   */
  queryPlannedForValues<Row>(text: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Runs `body` in a transaction: committed if it resolves, rolled back if it rejects. */
  transaction<T>(body: (transaction: Queryable) => Promise<T>): Promise<T>;
  /** LISTENs on `channel` (a lower-case identifier) on a connection of its own. */
  listen(channel: string, handlers: NotificationHandlers): Promise<Listening>;
  /** Releases what the driver opened itself (never a pool or a PGlite it was given). */
  close(): Promise<void>;
}
