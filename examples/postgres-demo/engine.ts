/**
 * Three processes share one PostgreSQL database: this engine process and two worker processes it starts
 * (`worker.ts`). The engine creates invoice tasks; the workers, each with its own store, api and
 * `ExternalTaskWorker`, take them and send the invoices; the engine hears every outcome as an event, in
 * its own process, as it happens. Large invoices end in a BPMN error (they need a manager's approval).
 *
 * The demo works in a fresh schema, dropped at the end.
 *
 * Run: npm run demo:postgres
 * (database: EXTERNAL_TASK_PG_URL, default postgres://postgres@127.0.0.1:5432/test)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { ExternalTaskApi, type ExternalTask } from '../../lib/index.js';
import { PostgresExternalTaskRepository } from '../../lib/postgres/index.js';
import {
  databaseUrl,
  log,
  startedAt,
  type EngineMessage,
  type Invoice,
  type WorkerMessage,
} from './messages.js';

const invoiceCount = 12;
const workerNames = ['A', 'B'];
const schema = `et_demo_${randomBytes(4).toString('hex')}`;
const customers = ['Ada', 'Grace', 'Edsger', 'Barbara', 'Donald', 'Frances'];

/** A worker process, and what it told the engine. */
class WorkerProcess {
  readonly child: ChildProcess;
  readonly messages: WorkerMessage[] = [];
  readonly exited: Promise<number | null>;

  constructor(readonly name: string) {
    this.child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('worker.ts', import.meta.url)), name, schema],
      {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        env: { ...process.env, POSTGRES_DEMO_STARTED_AT: String(startedAt) },
      },
    );
    this.child.on('message', (message) => this.messages.push(message as WorkerMessage));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  /** The first message of `type`, within `ms`. */
  async message<T extends WorkerMessage['type']>(
    type: T,
    ms: number,
  ): Promise<Extract<WorkerMessage, { type: T }>> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.messages.find((message) => message.type === type);
      if (found) return found as Extract<WorkerMessage, { type: T }>;
      if (this.child.exitCode !== null)
        throw new Error(`worker-${this.name} exited before its ${type} message`);
      if (Date.now() > deadline)
        throw new Error(`worker-${this.name} sent no ${type} message within ${ms} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  send(message: EngineMessage): void {
    if (this.child.connected) this.child.send(message);
  }
}

/** Resolves with `promise`, or rejects saying what did not happen within `ms`. */
async function within<T>(promise: Promise<T>, what: string, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const repository = new PostgresExternalTaskRepository(
  { connectionString: databaseUrl },
  { schema, poolSize: 2, applicationName: 'postgres-demo-engine' },
);
/** Made once the schema exists: an api attaches to the store's feed as soon as it is made. */
let api: ExternalTaskApi | undefined;
const workers: WorkerProcess[] = [];

/** Whether the demo's schema was made, and so is to be dropped. */
let migrated = false;

async function run(): Promise<void> {
  log('engine', `schema ${schema} on ${new URL(databaseUrl).host}`);
  await repository.migrate();
  migrated = true;
  const engineApi = new ExternalTaskApi({ repository });
  api = engineApi;
  engineApi.events.on('task:finished', ({ task, result }) => {
    const { invoiceNumber } = result as { invoiceNumber: string };
    log('engine', `invoice ${invoiceOf(task)} sent by ${task.workerId} as ${invoiceNumber}`);
  });
  engineApi.events.on('task:failed', ({ task, error }) => {
    const reason = error.type === 'bpmn' ? `${error.errorCode}: ${error.errorMessage}` : error.errorMessage;
    log('engine', `invoice ${invoiceOf(task)} not sent by ${task.workerId} (${reason})`);
  });

  log('engine', `starting ${workerNames.length} worker processes (worker.ts: each its own store and api)`);
  workers.push(...workerNames.map((name) => new WorkerProcess(name)));
  await Promise.all(workers.map((worker) => worker.message('ready', 30_000)));

  const tasks = await engineApi.engine.createMany(
    Array.from({ length: invoiceCount }, (_, i) => {
      const invoice: Invoice = {
        invoice: i + 1,
        customer: customers[i % customers.length]!,
        amount: i % 5 === 4 ? 1200 + 10 * i : 90 + 35 * i,
      };
      return {
        topic: 'send-invoice',
        correlationId: `invoice-${invoice.invoice}`,
        processInstanceId: `billing-${invoice.invoice}`,
        flowNodeInstanceId: `send-invoice-${invoice.invoice}`,
        payload: { ...invoice },
      };
    }),
  );
  log('engine', `created ${tasks.length} invoice tasks`);

  const outcomes = await within(
    Promise.all(tasks.map((task) => engineApi.waitForOutcome(task.id))),
    'the outcomes of every invoice',
    30_000,
  );

  for (const worker of workers) worker.send({ type: 'stop' });
  const summaries = await Promise.all(workers.map((worker) => worker.message('summary', 20_000)));
  const codes = await within(
    Promise.all(workers.map((worker) => worker.exited)),
    'the workers’ exit',
    20_000,
  );

  console.log('\nSummary:');
  for (const summary of summaries) {
    console.log(`  ${summary.worker}: ${summary.invoices.length} invoices (${summary.invoices.join(', ')})`);
  }
  const sent = outcomes.filter((task) => task.state === 'finished').length;
  console.log(`  sent: ${sent}, held for approval: ${outcomes.length - sent}, of ${outcomes.length}`);
  if (codes.some((code) => code !== 0)) throw new Error(`a worker exited with ${codes.join(', ')}`);
  if (summaries.some((summary) => summary.invoices.length === 0)) throw new Error('a worker did nothing');
}

function invoiceOf(task: ExternalTask): number {
  return (task.payload as unknown as Invoice).invoice;
}

let cleaning: Promise<void> | undefined;

/** Whatever happened: no worker left running, the store closed, the schema dropped. Runs once. */
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await api?.close();
    await repository.close();
    if (!migrated) return;
    const client = new pg.Client({ connectionString: databaseUrl });
    try {
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      log('engine', `dropped schema ${schema}`);
    } finally {
      await client.end();
    }
  })();
  return cleaning;
}

// Interrupted (Ctrl-C): still leave no worker and no schema behind.
process.once('SIGINT', () => {
  log('engine', 'interrupted');
  void cleanUp().finally(() => process.exit(130));
});

try {
  await run();
} catch (error) {
  // After an interrupt, what failed is only the closing api: nothing to say.
  if (!cleaning) console.error(failure(error));
  process.exitCode = 1;
} finally {
  await cleanUp().catch((error: unknown) => {
    console.error(`The demo could not drop its schema ${schema}: ${String(error)}`);
    process.exitCode = 1;
  });
}

/** What went wrong, in one line; for a database that is missing or not reachable, what to do. */
function failure(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const said = cause instanceof Error ? cause.message : String(cause);
  const code = (cause as { code?: unknown } | null)?.code;
  const where = `${new URL(databaseUrl).host}${new URL(databaseUrl).pathname}`;
  if (code === '3D000') {
    return `The demo failed: ${said} on ${where}. Create it (createdb), or set EXTERNAL_TASK_PG_URL to a database that exists.`;
  }
  if (code === 'ECONNREFUSED') {
    return `The demo failed: no PostgreSQL server answers at ${where}. Start one, or set EXTERNAL_TASK_PG_URL.`;
  }
  return `The demo failed: ${said}`;
}
