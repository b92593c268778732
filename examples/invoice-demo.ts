/**
 * A small simulated engine hands three orders to in-process workers and prints what happens: one order
 * goes through (finish), one is out of stock (a BPMN error the process could route to a boundary event),
 * and one meets a broken payment gateway (a service error).
 *
 * Run: npm run demo
 */
import {
  ExternalTaskApi,
  InMemoryExternalTaskRepository,
  type ExternalTask,
  type JsonValue,
} from '../lib/index.js';

const repository = new InMemoryExternalTaskRepository();
const api = new ExternalTaskApi({ repository });
const identity = { token: 'demo-worker' };

const log = (who: string, message: string): void => console.log(`${who.padEnd(8)} ${message}`);

api.events.on('task:created', ({ task }) => log('engine', `created ${task.topic} for ${task.correlationId}`));
api.events.on('task:locked', ({ task }) =>
  log('api', `${task.workerId} locked ${task.topic} of ${task.correlationId}`),
);
api.events.on('task:finished', ({ task, result }) =>
  log('engine', `${task.correlationId} finished: ${JSON.stringify(result)}`),
);
api.events.on('task:failed', ({ task, error }) =>
  log(
    'engine',
    `${task.correlationId} failed (${error.type}): ${error.type === 'bpmn' ? error.errorCode : error.errorMessage}`,
  ),
);

/** The simulated engine: one process instance per order, each delegating "charge and invoice" to a worker. */
async function runOrder(order: { id: string; item: string; card: string }): Promise<ExternalTask> {
  const task = await repository.create({
    topic: 'charge-and-invoice',
    correlationId: order.id,
    processInstanceId: `process-${order.id}`,
    flowNodeInstanceId: `charge-and-invoice-${order.id}`,
    payload: order,
  });
  return api.waitForOutcome(task.id);
}

/** An in-process worker: long-polls its topic, handles each task and reports the outcome. */
async function worker(workerId: string, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    const tasks = await api.fetchAndLock(identity, {
      workerId,
      topics: [{ topicName: 'charge-and-invoice', lockDuration: 10_000 }],
      maxTasks: 1,
      longPollingTimeout: 5_000,
      signal,
    });
    for (const task of tasks) {
      const order = task.payload as { [key: string]: JsonValue };
      if (order['item'] === 'unicorn') {
        await api.handleBpmnError(identity, workerId, task.id, 'OUT_OF_STOCK', 'no unicorns left');
      } else if (order['card'] === 'expired') {
        await api.handleServiceError(identity, workerId, task.id, 'payment gateway unreachable', {
          gateway: 'demo-pay',
        });
      } else {
        await api.finishExternalTask(identity, workerId, task.id, { invoice: `INV-${String(order['id'])}` });
      }
    }
  }
}

const stop = new AbortController();
const workers = [worker('worker-1', stop.signal), worker('worker-2', stop.signal)];
const outcomes = await Promise.all([
  runOrder({ id: 'A-100', item: 'book', card: 'valid' }),
  runOrder({ id: 'A-101', item: 'unicorn', card: 'valid' }),
  runOrder({ id: 'A-102', item: 'lamp', card: 'expired' }),
]);
stop.abort();
await Promise.all(workers);
api.close();
console.log('\nOutcomes:');
for (const task of outcomes) console.log(`  ${task.correlationId}: ${task.state}`);
