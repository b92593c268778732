/**
 * The worker process of the HTTP demo: an `ExternalTaskWorker` on an `HttpExternalTaskClient`, talking
 * to the engine process over HTTP. It is the same worker code as in process; only the service differs.
 *
 * Run by engine.ts with the API's base URL and the worker's token as its arguments.
 */
import { BpmnError, ExternalTaskWorker } from '../../lib/index.js';
import { HttpExternalTaskClient } from '../../lib/http/index.js';

interface Invoice {
  readonly invoice: number;
  readonly amount: number;
}

const [baseUrl, token] = process.argv.slice(2) as [string, string];
const client = new HttpExternalTaskClient({ baseUrl, token });
const sent: number[] = [];

const worker = new ExternalTaskWorker(client, {
  topic: 'send-invoice',
  workerId: 'http-worker',
  concurrency: 4,
  longPollingTimeout: 10_000,
  handler: async (task) => {
    const { invoice, amount } = task.payload as unknown as Invoice;
    console.log(`worker   took invoice ${invoice} (${amount} EUR) over HTTP`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (amount > 1000) throw new BpmnError('NEEDS_APPROVAL', `${amount} EUR needs a manager's approval`);
    sent.push(invoice);
    return { invoiceNumber: `INV-${1000 + invoice}` };
  },
});

process.on('message', (message: { type: string }) => {
  if (message.type !== 'stop') return;
  void worker.stop().then(() => {
    process.send!({ type: 'summary', sent: sent.length }, () => process.disconnect());
  });
});

await worker.start();
process.send!({ type: 'ready' });
// A worker refused for good (a wrong token: 401) halts: this process then ends non-zero.
if (await worker.onStopped()) process.exitCode = 1;
