import type pg from 'pg';
import { ExternalTaskApi } from '../../../lib/api/index.js';
import type { NewExternalTask } from '../../../lib/model/index.js';
import {
  PostgresExternalTaskRepository,
  type PostgresExternalTaskRepositoryOptions,
} from '../../../lib/postgres/index.js';
import type { ChangeFeed, ExternalTaskChange } from '../../../lib/repository/index.js';
import { adminPool, dropSchema, freshSchema, quietLogger, serverUrl } from '../support.js';
import { TcpProxy } from './tcp-proxy.js';

/** The identity every worker of the fault tests presents. */
export const identity = { token: 'fault-test' };

/**
 * Stores on one fresh schema of the server, opened directly or through a {@link TcpProxy}, and what a
 * fault test needs beside them (an admin pool to end backends with, the facade on a store, a recorder
 * of a store's change feed); everything is closed and the schema dropped by {@link close}.
 */
export class FaultBed {
  readonly schema = freshSchema();
  readonly admin: pg.Pool = adminPool();
  private readonly closers: (() => Promise<void>)[] = [];
  private tasks = 0;

  /** A store on the schema; `applicationName` tells its connections apart in `pg_stat_activity`. */
  open(
    applicationName: string,
    options: Partial<PostgresExternalTaskRepositoryOptions> = {},
    connectionString = serverUrl,
  ): PostgresExternalTaskRepository & { readonly log: string[] } {
    const logger = quietLogger();
    const repository = new PostgresExternalTaskRepository(
      { connectionString },
      { schema: this.schema, logger, poolSize: 4, applicationName, safetyRecheckInterval: 500, ...options },
    );
    this.closers.push(() => repository.close());
    return Object.assign(repository, { log: logger.messages });
  }

  /** A proxy in front of the server, and the connection string that goes through it. */
  async proxy(): Promise<{ proxy: TcpProxy; connectionString: string }> {
    const url = new URL(serverUrl);
    const proxy = await TcpProxy.start({ host: url.hostname, port: Number(url.port || 5432) });
    this.closers.push(() => proxy.close());
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    return { proxy, connectionString: url.toString() };
  }

  /** The facade on `repository` (closed before the stores). */
  api(repository: PostgresExternalTaskRepository): ExternalTaskApi {
    const api = new ExternalTaskApi({ repository, logger: quietLogger() });
    this.closers.unshift(() => api.close());
    return api;
  }

  /** Records every change `repository` delivers from its feed, from the start. */
  async record(
    repository: PostgresExternalTaskRepository,
  ): Promise<{ readonly changes: ExternalTaskChange[]; readonly feed: ChangeFeed }> {
    const changes: ExternalTaskChange[] = [];
    const feed = await repository.subscribe({ after: 0, onChange: (change) => void changes.push(change) });
    return { changes, feed };
  }

  /** A new task of `topic` with fresh engine ids. */
  newTask(topic: string): NewExternalTask {
    const n = ++this.tasks;
    return { topic, flowNodeInstanceId: `fni-${n}`, correlationId: `c-${n}`, processInstanceId: `pi-${n}` };
  }

  async close(): Promise<void> {
    for (const close of this.closers.splice(0)) await close();
    await dropSchema(this.admin, this.schema);
    await this.admin.end();
  }
}
