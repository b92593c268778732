import type { ManualClock } from '../../lib/clock/index.js';
import { PostgresExternalTaskRepository, type PostgresConnection } from '../../lib/postgres/index.js';
import { InMemoryExternalTaskRepository } from '../../lib/repository/in-memory/index.js';
import type { ExternalTaskRepository } from '../../lib/repository/index.js';
import {
  dropSchema,
  freshSchema,
  quietLogger,
  serverUrl,
  sharedPglite,
  adminPool,
} from '../postgres/support.js';

/** One store as a model run uses it: open, reopen (durable stores) and drop. */
export interface OpenStore {
  readonly repository: ExternalTaskRepository;
  /** Closes the store and opens it again on the same data; absent for a store that keeps nothing. */
  readonly reopen?: () => Promise<OpenStore>;
  /** Closes the store and drops what it kept. */
  dispose(): Promise<void>;
}

/** A kind of store the model runs against. */
export interface StoreUnderTest {
  readonly name: string;
  /** Whether it keeps its data across a close, so that a run may close and reopen it. */
  readonly durable: boolean;
  /**
   * Whether a fetch that races other statements may come back short (see `FetchCommand.judge`): on
   * the PostgreSQL server, whose claims skip rows other statements hold locked. The in-memory store and
   * PGlite (one connection) run one operation at a time, so their racing fetches must be complete.
   */
  readonly racingFetchesMayComeBackShort: boolean;
  /** A fresh, empty store that reads "now" from `clock`. */
  open(clock: ManualClock): Promise<OpenStore>;
  /** Releases what every store of this kind shared (a pool); once, after the last run. */
  release?(): Promise<void>;
}

const logger = quietLogger();

/** The in-memory store: a new one per run; it keeps nothing, so it is never reopened. */
export const inMemoryStore: StoreUnderTest = {
  name: 'in-memory',
  durable: false,
  racingFetchesMayComeBackShort: false,
  open(clock) {
    const repository = new InMemoryExternalTaskRepository({ clock, logger });
    return Promise.resolve({ repository, dispose: () => Promise.resolve() });
  },
};

/** A PostgreSQL store in a fresh schema, dropped through `database` at the end of the run. */
function postgresStore(
  name: string,
  racingFetchesMayComeBackShort: boolean,
  connect: () => Promise<{
    connection: PostgresConnection;
    database: { query(text: string): Promise<unknown> };
  }>,
  release?: () => Promise<void>,
): StoreUnderTest {
  return {
    name,
    durable: true,
    racingFetchesMayComeBackShort,
    async open(clock) {
      const { connection, database } = await connect();
      const schema = freshSchema();
      const openOn = async (): Promise<OpenStore> => {
        const repository = new PostgresExternalTaskRepository(connection, {
          schema,
          clock,
          logger,
          poolSize: 2,
        });
        await repository.migrate();
        return {
          repository,
          reopen: async () => {
            await repository.close();
            return openOn();
          },
          dispose: async () => {
            await repository.close();
            await dropSchema(database, schema);
          },
        };
      };
      return openOn();
    },
    ...(release && { release }),
  };
}

let admin: ReturnType<typeof adminPool> | undefined;

/** The PostgreSQL server (`EXTERNAL_TASK_PG_URL`), a fresh schema per run. */
export const serverStore = postgresStore(
  'PostgreSQL server',
  true,
  () => {
    admin ??= adminPool();
    return Promise.resolve({ connection: { connectionString: serverUrl }, database: admin });
  },
  async () => {
    await admin?.end();
    admin = undefined;
  },
);

/** PGlite (the run's one instance, see `sharedPglite`), a fresh schema per run. */
export const pgliteStore = postgresStore('PGlite', false, async () => {
  const pglite = await sharedPglite();
  return { connection: { pglite }, database: pglite };
});
