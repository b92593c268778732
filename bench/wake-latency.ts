/**
 * Wake-up latency across processes for the PostgreSQL benchmark: a long poll waiting in a child process
 * (this file run with `--wake-child`), resolved by a creation in the parent.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { ExternalTaskApi, type ExternalTask } from '../lib/index.js';
import { PostgresExternalTaskRepository } from '../lib/postgres/index.js';
import { identity, LOCK_MS, migratedSchema, serverUrl, silent } from './support.js';

/** Real ms between the waiter saying it polls and the task's creation (its claim has found nothing by then). */
const WAKE_ARM_MS = 30;

/** Wake-up latency: a long poll waiting in another process, resolved by a creation in this one. */
export async function wakeLatency(samples: number): Promise<number[]> {
  const schema = await migratedSchema({ connectionString: serverUrl });
  const repository = new PostgresExternalTaskRepository(
    { connectionString: serverUrl },
    { schema, logger: silent },
  );
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--wake-child', schema], {
    execArgv: ['--import', 'tsx'],
  });
  const messages: { type: string; at?: string }[] = [];
  let notify: (() => void) | undefined;
  child.on('message', (message) => {
    messages.push(message as { type: string; at?: string });
    notify?.();
  });
  const next = async (type: string): Promise<{ type: string; at?: string }> => {
    for (;;) {
      const index = messages.findIndex((message) => message.type === type);
      if (index >= 0) return messages.splice(index, 1)[0]!;
      await new Promise<void>((resolve) => (notify = resolve));
    }
  };
  try {
    await next('ready');
    const latencies: number[] = [];
    for (let i = 0; i < samples + 5; i++) {
      child.send({ type: 'poll' });
      await next('polling');
      await new Promise((resolve) => setTimeout(resolve, WAKE_ARM_MS));
      const created = process.hrtime.bigint();
      await repository.create({
        topic: 'wake',
        flowNodeInstanceId: `fni-${i}`,
        correlationId: `c-${i}`,
        processInstanceId: `pi-${i}`,
      });
      const woke = await next('woke');
      // hrtime is the machine's monotonic clock: comparable between processes of one machine.
      if (i >= 5) latencies.push(Number(BigInt(woke.at!) - created) / 1e6);
    }
    return latencies;
  } finally {
    child.send({ type: 'exit' });
    await new Promise((resolve) => child.once('exit', resolve));
    await repository.close();
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
    await admin.end();
  }
}

/** The other process of the wake-up latency: long polls when told, says when its poll resolved. */
async function wakeChild(schema: string): Promise<void> {
  const repository = new PostgresExternalTaskRepository(
    { connectionString: serverUrl },
    { schema, logger: silent },
  );
  const api = new ExternalTaskApi({ repository, logger: silent });
  const send = (message: object): void => void process.send!(message);
  // The first fetch attaches the API (feed, LISTEN): done before any timing.
  await api.fetchAndLockExternalTasks(identity, 'waiter', 'wake', 1, 0, LOCK_MS);
  process.on('message', (message: { type: string }) => {
    if (message.type === 'exit') {
      void api
        .close()
        .then(() => repository.close())
        .then(() => process.exit(0));
      return;
    }
    const polled = api.fetchAndLockExternalTasks(identity, 'waiter', 'wake', 1, 30_000, LOCK_MS);
    send({ type: 'polling' });
    void polled.then((tasks: ExternalTask[]) => {
      const at = process.hrtime.bigint().toString();
      return Promise.all(
        tasks.map((task) => api.finishExternalTask(identity, 'waiter', task.id, undefined)),
      ).then(() => send({ type: 'woke', at }));
    });
  });
  send({ type: 'ready' });
}

if (process.argv[2] === '--wake-child') await wakeChild(process.argv[3]!);
