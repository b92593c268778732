import type pg from 'pg';
import type { NewExternalTask } from '../../lib/model/index.js';
import { PostgresExternalTaskRepository } from '../../lib/postgres/index.js';
import { adminPool, dropSchema, freshSchema, quietLogger, serverUrl } from './support.js';

/**
 * Several stores on one schema of the server, as several processes would have them, each with its own
 * pool and LISTEN connection, on the database's clock. For the tests of what happens between processes.
 */
export class SharedStore {
  readonly schema = freshSchema();
  readonly admin: pg.Pool = adminPool();
  private readonly opened: PostgresExternalTaskRepository[] = [];
  private tasks = 0;

  /** Another store on the schema (`applicationName` tells its connections apart). */
  open(applicationName = 'external-task-api-test'): PostgresExternalTaskRepository {
    const repository = new PostgresExternalTaskRepository(
      { connectionString: serverUrl },
      {
        schema: this.schema,
        logger: quietLogger(),
        poolSize: 4,
        applicationName,
        safetyRecheckInterval: 500,
      },
    );
    this.opened.push(repository);
    return repository;
  }

  /** A new task of `topic` with fresh engine ids. */
  newTask(topic: string): NewExternalTask {
    const n = ++this.tasks;
    return { topic, flowNodeInstanceId: `fni-${n}`, correlationId: `c-${n}`, processInstanceId: `pi-${n}` };
  }

  async close(): Promise<void> {
    for (const repository of this.opened.splice(0)) await repository.close();
    await dropSchema(this.admin, this.schema);
    await this.admin.end();
  }
}
