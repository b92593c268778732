/**
 * A worker process of the PostgreSQL demo (started by `engine.ts`): its own store on the shared schema,
 * its own api, and an `ExternalTaskWorker` that takes invoices, "sends" them and reports the outcome.
 *
 * Run by the engine: node --import tsx examples/postgres-demo/worker.ts <name> <schema>
 */
import { setTimeout as delay } from 'node:timers/promises';
import { BpmnError, ExternalTaskApi, ExternalTaskWorker } from '../../lib/index.js';
import { PostgresExternalTaskRepository } from '../../lib/postgres/index.js';
import { databaseUrl, log, type EngineMessage, type Invoice, type WorkerMessage } from './messages.js';

const [name, schema] = process.argv.slice(2);
if (!name || !schema || !process.send) {
  console.error('usage: worker.ts <name> <schema> (started by engine.ts, with an IPC channel)');
  process.exit(2);
}
const workerId = `worker-${name}`;
const send = (message: WorkerMessage, done?: () => void): void => {
  process.send?.(message, undefined, undefined, () => done?.());
};

const repository = new PostgresExternalTaskRepository(
  { connectionString: databaseUrl },
  { schema, poolSize: 2, applicationName: `postgres-demo-${workerId}` },
);
await repository.migrate();
const api = new ExternalTaskApi({ repository });
const invoices: number[] = [];
const worker = new ExternalTaskWorker(api, {
  topic: 'send-invoice',
  workerId,
  identity: { token: `${workerId}-token` },
  concurrency: 2,
  lockDuration: 10_000,
  longPollingTimeout: 5000,
  handler: async (task, { signal }) => {
    const invoice = task.payload as unknown as Invoice;
    log(workerId, `took invoice ${invoice.invoice} (${invoice.customer}, ${invoice.amount} EUR)`);
    invoices.push(invoice.invoice);
    await delay(150 + Math.floor(Math.random() * 200), undefined, { signal }); // the mail server takes a moment
    if (invoice.amount > 900) throw new BpmnError('NEEDS_APPROVAL', `${invoice.amount} EUR needs a manager`);
    return { invoiceNumber: `INV-${String(invoice.invoice).padStart(4, '0')}`, sentBy: workerId };
  },
});
worker.events.on('worker:error', ({ error }) => log(workerId, `error: ${String(error)}`));

let stopping: Promise<void> | undefined;
function stop(): Promise<void> {
  stopping ??= (async () => {
    await worker.stop();
    await api.close();
    await repository.close();
  })();
  return stopping;
}

process.on('message', (message: EngineMessage) => {
  if (message.type !== 'stop') return;
  void stop().then(() => {
    log(workerId, `stopped after ${invoices.length} invoices`);
    send({ type: 'summary', worker: workerId, invoices }, () => process.disconnect());
  });
});
// The engine went away without a word: stop rather than linger.
process.on('disconnect', () => void stop());

await worker.start();
log(workerId, 'is waiting for invoices');
send({ type: 'ready', worker: workerId });
// A worker that halts by itself (its fetches refused for good) ends this process non-zero.
const halted = await worker.onStopped();
if (halted) {
  process.exitCode = 1;
  await stop();
}
