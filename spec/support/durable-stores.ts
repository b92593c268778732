import type { Clock } from '../../lib/clock/index.js';
import { InMemoryExternalTaskRepository, type ExternalTaskRepository } from '../../lib/index.js';
import { PostgresExternalTaskRepository, type PostgresConnection } from '../../lib/postgres/index.js';
import {
  dropSchema,
  dropServerSchema,
  freshSchema,
  quietLogger,
  requireServer,
  serverUrl,
  sharedPglite,
} from '../postgres/support.js';

/**
 * A store that outlives the processes that use it: each `open()` is one process (one life of an engine,
 * or one of its replicas) and answers the same stored data.
 */
export interface DurableStore {
  readonly name: string;
  /** Runs before the store's tests (skips them when the store is not reachable). */
  prepare(context: Mocha.Context): Promise<void>;
  /**
   * Opens the store for one process; `close` ends it. `clock`: where the store reads "now" (every open of
   * a test should give the same; the in-memory store takes the first one).
   */
  open(
    clock?: Clock,
  ): Promise<{ readonly repository: ExternalTaskRepository; readonly close: () => Promise<void> }>;
  /** Removes what the store left. */
  cleanup(): Promise<void>;
}

function inMemoryStore(): DurableStore {
  let shared: InMemoryExternalTaskRepository | undefined;
  return {
    name: 'the in-memory store (one instance, a new api for each process)',
    prepare: () => Promise.resolve(),
    open: (clock) => {
      shared ??= new InMemoryExternalTaskRepository({ clock });
      return Promise.resolve({ repository: shared, close: () => Promise.resolve() });
    },
    cleanup: () => {
      shared = undefined;
      return Promise.resolve();
    },
  };
}

function postgresStore(
  name: string,
  connect: () => Promise<PostgresConnection>,
  drop: (schema: string) => Promise<void>,
  prepare: (context: Mocha.Context) => Promise<void>,
): DurableStore {
  let schema = freshSchema();
  return {
    name,
    prepare,
    open: async (clock) => {
      const repository = new PostgresExternalTaskRepository(await connect(), {
        schema,
        clock,
        logger: quietLogger(),
      });
      await repository.migrate();
      return { repository, close: () => repository.close() };
    },
    cleanup: async () => {
      await drop(schema);
      schema = freshSchema();
    },
  };
}

/** The three stores: in memory, the PostgreSQL server (skipped when unreachable outside CI) and PGlite. */
export const durableStores: readonly DurableStore[] = [
  inMemoryStore(),
  postgresStore(
    'the PostgreSQL server (a new repository for each process)',
    () => Promise.resolve({ connectionString: serverUrl }),
    dropServerSchema,
    requireServer,
  ),
  postgresStore(
    'PGlite (a new repository for each process)',
    async () => ({ pglite: await sharedPglite() }),
    async (schema) => dropSchema(await sharedPglite(), schema),
    async () => void (await sharedPglite()),
  ),
];
