/**
 * How often a fetch racing a refused write of the same task comes back empty on the PostgreSQL server,
 * though the task is available before and after (docs/reliability.md, "Model-based test"):
 * `npx tsx spec/model/racing-fetch-count.ts [rounds]`. Each round creates a task of a topic of its own
 * and, at the same moment, has a worker that never held it finish it (refused: 423) and another fetch.
 */
import { ExternalTaskApi } from '../../lib/api/index.js';
import { PostgresExternalTaskRepository } from '../../lib/postgres/index.js';
import { dropServerSchema, freshSchema, quietLogger, serverUrl } from '../postgres/support.js';

const rounds = Number(process.argv[2] ?? 100);
const schema = freshSchema();
const repository = new PostgresExternalTaskRepository(
  { connectionString: serverUrl },
  { schema, logger: quietLogger(), poolSize: 2 },
);
await repository.migrate();
const api = new ExternalTaskApi({ repository, logger: quietLogger() });
const identity = { token: 'racing-fetch-count' };

/** How many of `rounds` fetches with this long poll came back empty or took longer than a second. */
async function missed(longPollingTimeout: number): Promise<number> {
  let count = 0;
  for (let round = 0; round < rounds; round++) {
    const topic = `topic-${longPollingTimeout}-${round}`;
    const task = await api.engine.create({
      topic,
      flowNodeInstanceId: 'f',
      correlationId: 'c',
      processInstanceId: 'p',
    });
    const started = performance.now();
    const [, fetched] = await Promise.all([
      api.finishExternalTask(identity, 'never-held-it', task.id, null).catch(() => undefined),
      api.fetchAndLockExternalTasks(identity, 'worker', topic, 1, longPollingTimeout, 60_000),
    ]);
    if (fetched.length === 0 || performance.now() - started > 1000) count++;
  }
  return count;
}

try {
  for (const longPollingTimeout of [0, 3000]) {
    const count = await missed(longPollingTimeout);
    console.log(
      `longPollingTimeout ${longPollingTimeout}: ${count} of ${rounds} fetches came back empty or late`,
    );
  }
} finally {
  await api.close();
  await repository.close();
  await dropServerSchema(schema);
}
