/**
 * A small simulated engine hands orders to in-process workers and prints what happens:
 * - order A-100 goes through: the handler's return value finishes the task;
 * - order A-101 asks for a unicorn: the handler throws a BpmnError (the process could route it to an error
 *   boundary event);
 * - order A-102 meets a flaky payment gateway: the handler throws, the worker retries after a short delay,
 *   and the second attempt succeeds;
 * - order A-103 has an expired card: every attempt throws, and when the retries are spent the task fails as
 *   an incident (a service error the engine must look at).
 *
 * Run: npm run demo
 */
import {
  BpmnError,
  ExternalTaskApi,
  ExternalTaskWorker,
  InMemoryExternalTaskRepository,
  type ExternalTask,
} from '../lib/index.js';

interface Order {
  readonly id: string;
  readonly item: string;
  readonly card: 'valid' | 'flaky' | 'expired';
}

const repository = new InMemoryExternalTaskRepository();
const api = new ExternalTaskApi({ repository });
const startedAt = Date.now();
const log = (who: string, message: string): void =>
  console.log(`${String(Date.now() - startedAt).padStart(5)} ms  ${who.padEnd(9)} ${message}`);

api.events.on('task:created', ({ task }) =>
  log('engine', `created "${task.topic}" for order ${task.correlationId}`),
);
api.events.on('task:finished', ({ task, result }) =>
  log('engine', `${task.correlationId} finished: ${JSON.stringify(result)}`),
);
api.events.on('task:retryScheduled', ({ task }) =>
  log('engine', `${task.correlationId} will be retried (${task.retries} left)`),
);
api.events.on('task:failed', ({ task, error, incident }) =>
  log(
    'engine',
    `${task.correlationId} failed with a ${error.type} error: ` +
      (error.type === 'bpmn' ? error.errorCode : error.errorMessage) +
      (incident ? ' (incident: retries spent)' : ''),
  ),
);

const gatewayCalls = new Map<string, number>();
const worker = new ExternalTaskWorker(api, {
  topic: 'charge-and-invoice',
  workerId: 'demo-worker',
  identity: { token: 'demo-worker-token' },
  concurrency: 2,
  lockDuration: 10_000,
  retry: { retries: 2, strategy: 'fixed', delay: 200, jitter: 0 },
  // The worker logs each failed run in one line, saying what happens next; here through the demo's log.
  logger: { warn: (message) => log('worker', message), error: (message) => log('worker', message) },
  handler: async (task) => {
    const order = task.payload as unknown as Order;
    log('worker', `charging order ${order.id} (${order.item})`);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the payment gateway takes a moment
    if (order.item === 'unicorn') throw new BpmnError('OUT_OF_STOCK', 'no unicorns left');
    const call = (gatewayCalls.get(order.id) ?? 0) + 1;
    gatewayCalls.set(order.id, call);
    if (order.card === 'expired' || (order.card === 'flaky' && call === 1)) {
      throw new Error(`payment gateway declined the card (call ${call})`);
    }
    return { invoice: `INV-${order.id}` };
  },
});

/** The simulated engine: one process instance per order, delegating "charge and invoice" to a worker. */
async function runOrder(order: Order): Promise<ExternalTask> {
  const task = await api.engine.create({
    topic: 'charge-and-invoice',
    correlationId: order.id,
    processInstanceId: `process-${order.id}`,
    flowNodeInstanceId: `charge-and-invoice-${order.id}`,
    payload: { ...order },
  });
  return api.waitForOutcome(task.id);
}

await worker.start();
const outcomes = await Promise.all([
  runOrder({ id: 'A-100', item: 'book', card: 'valid' }),
  runOrder({ id: 'A-101', item: 'unicorn', card: 'valid' }),
  runOrder({ id: 'A-102', item: 'lamp', card: 'flaky' }),
  runOrder({ id: 'A-103', item: 'chair', card: 'expired' }),
]);
await worker.stop();
await api.close();

console.log('\nOutcomes:');
for (const task of outcomes) {
  console.log(`  ${task.correlationId}: ${task.state}${task.incident ? ' (incident)' : ''}`);
}
const counts = await api.engine.countByTopic(['charge-and-invoice']);
console.log('Counts:', JSON.stringify(counts[0]));
console.log('Worker stats:', JSON.stringify(worker.stats()));
