/**
 * The engine process of the crash loop on PostgreSQL (`spec/crash/server-crash-loop.ts`): consumes the
 * outcomes with `api.consumeOutcomes`, resuming after the position it stored. It stores each outcome it
 * handles, with its position, as one line of a journal flushed to the disk before the next outcome is
 * taken (`Journal`, durable): the line is both what the engine did and where it resumes, so a kill at any
 * moment leaves the two in step. A failed outcome is handed over again by the api; when the consumption
 * stops (`onError` without `retryIn`), it consumes again from the position it stored, as the documentation
 * says an engine should. The test kills it with SIGKILL.
 *
 * Run: node --import tsx spec/crash/processes/crash-engine.ts <url> <schema> <journal> <life>
 * (with an IPC channel: sends `{ type: 'ready' }` once it consumes; exits when the parent goes away).
 */
import { ExternalTaskApi } from '../../../lib/index.js';
import { PostgresExternalTaskRepository } from '../../../lib/postgres/index.js';
import { quietLogger } from '../../postgres/support.js';
import type { OutcomeLine, ReadyMessage } from '../crash-records.js';
import { Journal } from '../journal.js';

const [url, schema, journalPath, lifeArg] = process.argv.slice(2);
if (!url || !schema || !journalPath || !lifeArg || !process.send) {
  console.error('usage: crash-engine.ts <url> <schema> <journal> <life> (with IPC)');
  process.exit(2);
}
const send = process.send.bind(process);
const life = Number(lifeArg);
const journal = new Journal<OutcomeLine>(journalPath, true);

const repository = new PostgresExternalTaskRepository(
  { connectionString: url },
  { schema, logger: quietLogger(), poolSize: 3, applicationName: 'et-crash-engine', safetyRecheckMs: 500 },
);
const api = new ExternalTaskApi({ repository, logger: quietLogger() });

/** The position stored last: that of the journal's last line (0 before the first outcome). */
function storedPosition(): number {
  return journal.read().at(-1)?.position ?? 0;
}

async function consume(): Promise<void> {
  for (;;) {
    try {
      await api.consumeOutcomes({
        after: storedPosition(),
        onOutcome: ({ task, position }) =>
          journal.append({ task: task.id, position, state: task.state, life }),
        // A failed outcome is handed over again by the api itself; only a stop needs a new consumption.
        onError: (_error, _outcome, { retryIn }) => {
          if (retryIn === undefined) setTimeout(() => void consume(), 200);
        },
      });
      return;
    } catch {
      // The store is away (the server restarts): try again shortly.
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

await consume();
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' } satisfies ReadyMessage);
