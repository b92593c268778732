/**
 * Where the WAL of a claim and a finish goes, by relation and kind of record, per task: the PostgreSQL
 * store with its final tasks kept (the default retention) and deleted at once (`finalTaskRetention: 0`).
 * 2,000 tasks created beforehand (not counted), then claimed 16 at a time and each finished on its own
 * (the store alone, one process), counted with pg_waldump (bench/wal-count.ts; needs the server on this
 * machine and its data directory readable). The counts do not depend on the machine's load.
 *
 * Run with `npm run bench:wal` (`tsx bench/wal-breakdown.ts`). Reads `EXTERNAL_TASK_PG_URL`.
 */
import pg from 'pg';
import { log, migratedSchema, openStore, serverUrl } from './support.js';
import { walKinds, walMark, type WalKind } from './wal-count.js';

const TASKS = 2_000;
const BATCH = 16;

async function breakdown(finalTaskRetention: number | undefined): Promise<WalKind[]> {
  const connection = { connectionString: serverUrl };
  const schema = await migratedSchema(connection);
  const repository = await openStore(connection, schema, true, finalTaskRetention);
  const admin = new pg.Client(connection);
  await admin.connect();
  try {
    for (let done = 0; done < TASKS; done += 1000) {
      await repository.createMany(
        Array.from({ length: 1000 }, (_, i) => ({
          topic: 'wal',
          flowNodeInstanceId: `f-${done + i}`,
          correlationId: 'c',
          processInstanceId: `p-${done + i}`,
        })),
      );
    }
    await admin.query(`VACUUM ANALYZE "${schema}".tasks, "${schema}".pending`);
    const mark = await walMark(serverUrl);
    for (let done = 0; done < TASKS;) {
      const tasks = await repository.claim({
        workerId: 'w',
        topics: [{ topicName: 'wal', lockDuration: 60_000 }],
        maxTasks: BATCH,
      });
      const answers = await Promise.all(
        tasks.map((task) =>
          repository.complete({
            externalTaskId: task.id,
            workerId: 'w',
            outcome: { state: 'finished', result: { ok: true } },
          }),
        ),
      );
      if (answers.some((answer) => answer.status !== 'ok')) throw new Error('a finish was refused');
      done += tasks.length;
    }
    const kinds = await walKinds(serverUrl, schema, mark, TASKS);
    if (kinds === undefined) throw new Error('pg_waldump or the data directory is not reachable');
    return kinds;
  } finally {
    await repository.close();
    await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
    await admin.end();
  }
}

const kept = await breakdown(undefined);
const deleted = await breakdown(0);
const keys = [...new Set([...kept, ...deleted].map((kind) => `${kind.relation} | ${kind.record}`))];
const perTask = (kinds: WalKind[], key: string): number =>
  kinds.find((kind) => `${kind.relation} | ${kind.record}` === key)?.perTask ?? 0;
const total = (kinds: WalKind[]): number => kinds.reduce((sum, kind) => sum + kind.perTask, 0);
const lines = [
  `${TASKS.toLocaleString('en-US')} tasks, claimed ${BATCH} at a time, each finished on its own; WAL records per task`,
  '',
  '| relation | record | final tasks kept | deleted at once |',
  '|---|---|---:|---:|',
  ...keys
    .map((key) => [key, perTask(kept, key), perTask(deleted, key)] as const)
    .filter(([, a, b]) => a >= 0.05 || b >= 0.05)
    .sort((a, b) => b[1] + b[2] - (a[1] + a[2]))
    .map(([key, a, b]) => `| ${key} | ${a.toFixed(2)} | ${b.toFixed(2)} |`),
  `| all (rows under 0.05 included) | | **${total(kept).toFixed(1)}** | **${total(deleted).toFixed(1)}** |`,
];
log('done');
console.log(lines.join('\n'));
