/** The rows of a statement, as PGlite answers them. */
export interface PgliteResults<Row> {
  readonly rows: Row[];
}

/** What runs statements on PGlite: the instance, or a transaction of it. */
export interface PgliteQueryable {
  query<Row>(text: string, params?: unknown[]): Promise<PgliteResults<Row>>;
}

/**
 * What the store needs of an embedded PGlite (`@electric-sql/pglite`): any `PGlite` instance is one. It is
 * spelled out here rather than imported, so that the store's declarations compile without PGlite
 * installed (it is an optional peer).
 */
export interface PgliteInstance extends PgliteQueryable {
  transaction<T>(body: (transaction: PgliteQueryable) => Promise<T>): Promise<T>;
  listen(channel: string, onNotification: (payload: string) => void): Promise<() => Promise<void>>;
}
