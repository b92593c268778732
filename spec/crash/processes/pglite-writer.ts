/**
 * One life of the PGlite process of the crash loop (`spec/crash/pglite-kill-loop.ts`): opens the store on
 * a PGlite data directory and writes without pause — creates tasks, fetches and locks them, reports their
 * outcomes — journaling `begin` before each write and what the store acknowledged after it (`Journal`),
 * until the test kills it with SIGKILL, most likely in the middle of a write.
 *
 * Run: node --import tsx spec/crash/processes/pglite-writer.ts <data directory> <journal> <life>
 * (with an IPC channel: sends `{ type: 'ready' }` once the store is open and migrated).
 */
import { PGlite } from '@electric-sql/pglite';
import { ExternalTaskApi } from '../../../lib/index.js';
import { PostgresExternalTaskRepository } from '../../../lib/postgres/index.js';
import { quietLogger } from '../../postgres/support.js';
import type { ReadyMessage, WriteLine } from '../crash-records.js';
import { Journal } from '../journal.js';

const [dataDirectory, journalPath, lifeArg] = process.argv.slice(2);
if (!dataDirectory || !journalPath || !lifeArg || !process.send) {
  console.error('usage: pglite-writer.ts <data directory> <journal> <life> (with IPC)');
  process.exit(2);
}
const journal = new Journal<WriteLine>(journalPath);
const worker = `life-${lifeArg}`;
const identity = { token: worker };

const pglite = await PGlite.create(dataDirectory);
const repository = new PostgresExternalTaskRepository(
  { pglite },
  { schema: 'et_crash', logger: quietLogger() },
);
await repository.migrate();
const api = new ExternalTaskApi({ repository, logger: quietLogger() });
process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready' } satisfies ReadyMessage);

for (let n = 0; ; n++) {
  const keys = Array.from({ length: 1 + (n % 4) }, (_, i) => `${worker}-${n}-${i}`);
  journal.append({ op: 'begin', write: 'create', keys });
  const created = await api.engine.createMany(
    keys.map((key) => ({
      topic: 'crash',
      idempotencyKey: key,
      correlationId: key,
      processInstanceId: key,
      flowNodeInstanceId: key,
    })),
  );
  journal.append({ op: 'created', ids: created.map((task) => task.id) });
  journal.append({ op: 'begin', write: 'lock' });
  // Tasks a killed life held come back here once their short locks expire.
  const locked = await api.fetchAndLock(identity, {
    workerId: worker,
    topics: [{ topicName: 'crash', lockDuration: 2000 }],
    maxTasks: 3,
  });
  journal.append({ op: 'locked', ids: locked.map((task) => task.id), worker });
  for (const [i, task] of locked.entries()) {
    journal.append({ op: 'begin', write: 'outcome' });
    if (i === 2) {
      await api.handleBpmnError(identity, worker, task.id, 'CRASH_TEST_REJECTED');
      journal.append({ op: 'failed', id: task.id, type: 'bpmn' });
    } else if (n % 7 === 3 && i === 1) {
      await api.handleServiceError(identity, worker, task.id, 'failed on purpose');
      journal.append({ op: 'failed', id: task.id, type: 'service' });
    } else {
      await api.finishExternalTask(identity, worker, task.id, { n });
      journal.append({ op: 'finished', id: task.id, result: { n } });
    }
  }
}
