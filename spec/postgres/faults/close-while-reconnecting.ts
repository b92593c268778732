/**
 * Run as a process of its own by `faults.spec.ts`: opens a store through a proxy, subscribes and watches,
 * takes the database away (the store starts reconnecting), then closes the store and the proxy and
 * returns. If a timer or socket were left behind, this process would not exit; the test waits for it.
 */
import { PostgresExternalTaskRepository } from '../../../lib/postgres/index.js';
import { quietLogger, serverUrl } from '../support.js';
import { eventually } from './backends.js';
import { TcpProxy } from './tcp-proxy.js';

const schema = process.argv[2] ?? 'et_close_while_reconnecting';
const url = new URL(serverUrl);
const proxy = await TcpProxy.start({ host: url.hostname, port: Number(url.port || 5432) });
url.hostname = '127.0.0.1';
url.port = String(proxy.port);
const logger = quietLogger();
const repository = new PostgresExternalTaskRepository(
  { connectionString: url.toString() },
  { schema, logger, safetyRecheckInterval: 100, applicationName: 'et-faults-close' },
);
await repository.migrate();
await repository.subscribe({ onChange: () => undefined });
await repository.watchAvailability(() => undefined);
await proxy.cut();
await eventually(
  () => logger.messages.filter((message) => message.includes('LISTEN')).length >= 2,
  'reconnection attempts',
);
await repository.close();
await proxy.close();
console.log('closed while reconnecting');
// No attempt after close(): its timers (unref'd, so they would not hold the process) must be cleared.
const attempts = logger.messages.length;
await new Promise((resolve) => setTimeout(resolve, 3000));
const after = logger.messages.slice(attempts);
// The process's own stdio (a terminal or the parent's pipes) aside.
const holding = process
  .getActiveResourcesInfo()
  .filter((resource) => resource !== 'TTYWrap' && resource !== 'PipeWrap');
console.log(`after close: ${after.length} messages, holding: [${holding.join(', ')}]`);
if (after.length > 0 || holding.length > 0) process.exitCode = 1;
