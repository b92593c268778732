/**
 * Two processes, one interface: this engine process serves its External Task API over HTTP
 * (`createHttpHandler` on node:http, on 127.0.0.1 at a free port), and a worker process (`worker.ts`)
 * works on the tasks through an `HttpExternalTaskClient`. The engine creates invoice tasks and hears every
 * outcome as an event; large invoices end in a BPMN error.
 *
 * Run: npm run demo:http
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ExternalTaskApi, InMemoryExternalTaskRepository } from '../../lib/index.js';
import { createHttpHandler } from '../../lib/http/index.js';

const invoiceCount = 8;
const repository = new InMemoryExternalTaskRepository();
const api = new ExternalTaskApi({ repository });
api.events.on('task:finished', ({ task, result }) => {
  const { invoiceNumber } = result as { invoiceNumber: string };
  console.log(`engine   invoice ${invoiceOf(task.payload)} sent as ${invoiceNumber}`);
});
api.events.on('task:failed', ({ task, error }) => {
  const code = error.type === 'bpmn' ? error.errorCode : error.errorMessage;
  console.log(`engine   invoice ${invoiceOf(task.payload)} not sent (${code})`);
});

function invoiceOf(payload: unknown): number {
  return (payload as { invoice: number }).invoice;
}

// The handler serves only the token this engine hands to its worker process (any other is refused, 401).
const workerToken = randomBytes(16).toString('hex');
const identify = (token: string | undefined) => (token === workerToken ? { token } : undefined);
const server = http.createServer(createHttpHandler(api, { identify }));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/external_task/v1`;
console.log(`engine   serving ${baseUrl}`);

const worker = fork(fileURLToPath(new URL('worker.ts', import.meta.url)), [baseUrl, workerToken], {
  execArgv: ['--import', 'tsx'],
});
const messages: { type: string; sent?: number }[] = [];
worker.on('message', (message: { type: string; sent?: number }) => messages.push(message));
const message = (type: string): Promise<{ sent?: number }> =>
  new Promise((resolve, reject) => {
    const check = (): void => {
      const found = messages.find((candidate) => candidate.type === type);
      if (found) resolve(found);
      else if (worker.exitCode !== null) reject(new Error(`the worker exited before its ${type} message`));
      else setTimeout(check, 20);
    };
    check();
  });

let failed = false;
const guard = setTimeout(() => {
  failed = true;
  console.error('engine   the demo did not finish within 30 s');
  worker.kill();
  server.closeAllConnections();
}, 30_000);
try {
  await message('ready');
  const tasks = await Promise.all(
    Array.from({ length: invoiceCount }, (_, i) =>
      api.engine.create({
        topic: 'send-invoice',
        correlationId: `invoice-${i + 1}`,
        processInstanceId: `billing-${i + 1}`,
        flowNodeInstanceId: `send-invoice-${i + 1}`,
        payload: { invoice: i + 1, amount: i % 4 === 3 ? 1500 : 100 + 10 * i },
      }),
    ),
  );
  console.log(`engine   created ${tasks.length} invoice tasks`);
  const outcomes = await Promise.all(tasks.map((task) => api.waitForOutcome(task.id)));
  worker.send({ type: 'stop' });
  const { sent } = await message('summary');
  const finished = outcomes.filter((task) => task.state === 'finished').length;
  console.log(
    `Summary: sent ${finished}, held for approval ${outcomes.length - finished}, of ${outcomes.length}; the worker reports ${sent} sent`,
  );
} catch (error) {
  failed = true;
  console.error('engine   the demo failed:', error);
} finally {
  clearTimeout(guard);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await api.close();
}
process.exitCode = failed ? 1 : 0;
