/**
 * Renders every statement the PostgreSQL store sends, as PostgreSQL receives it, into docs/sql/ (one file
 * per statement, for the schema `external_tasks` and the default options), so that a reader sees each
 * statement whole rather than assembled from its builders. `npm run docs:sql` writes the files;
 * spec/postgres/rendered-sql.spec.ts fails when they differ from what the builders make.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  changeFeedStatements,
  migrations,
  queryFilter,
  queryTasks,
  sqlNames,
  storeStatements,
} from '../lib/postgres/sql/index.js';
import { pendingTopics } from '../lib/postgres/sql/pending-topics.js';
import { validateQuery } from '../lib/repository/repository-arguments.js';

/** Where the rendered statements live. */
export const renderedSqlDirectory = fileURLToPath(new URL('../docs/sql/', import.meta.url));

const SCHEMA = 'external_tasks';
/** The store's default `changeRetention`. */
const CHANGE_RETENTION = 100_000;

/** One rendered file: its path under docs/sql/, the builder it comes from, the statement. */
interface Rendered {
  readonly file: string;
  readonly builtBy: string;
  readonly text: string;
}

function queryExample(file: string, filter: Parameters<typeof validateQuery>[0]): Rendered {
  const names = sqlNames(SCHEMA);
  const { where, limit, offset } = queryFilter(names, validateQuery(filter), null);
  return {
    file,
    builtBy: `query-filter.ts (queryFilter) and read-tasks.ts (queryTasks), for query(${JSON.stringify(filter)})`,
    text: queryTasks(names, where, limit, offset),
  };
}

/** Every rendered statement, in a stable order. */
export function renderedSql(): Rendered[] {
  const names = sqlNames(SCHEMA);
  const store = storeStatements(names, CHANGE_RETENTION);
  const feed = changeFeedStatements(names);
  // What differs where final tasks go at once (finalTaskRetention: 0).
  const deleting = storeStatements(names, CHANGE_RETENTION, 'deleted');
  const rendered: Rendered[] = [
    { file: 'create.sql', builtBy: 'create-tasks.ts (createTasks)', text: store.create },
    {
      file: 'claim.sql',
      builtBy: 'claim-tasks.ts (claimTasks), claim-candidates.ts, scope.ts',
      text: store.claim,
    },
    ...Object.entries(store.held).map(([kind, text]) => ({
      file: `held-${kebab(kind)}.sql`,
      builtBy: `write-task.ts (heldTaskWrites.${kind})`,
      text,
    })),
    { file: 'set-retries.sql', builtBy: 'write-task.ts (setRetries)', text: store.setRetries },
    ...Object.entries(store.engine).map(([kind, text]) => ({
      file: `engine-${kebab(kind)}.sql`,
      builtBy: `engine-writes.ts (engineWrites.${kind})`,
      text,
    })),
    ...Object.entries(store.cancel).map(([selector, text]) => ({
      file: `cancel-by-${kebab(selector)}.sql`,
      builtBy: `write-task.ts (cancelTasks)`,
      text,
    })),
    ...(['finish', 'fail'] as const).map((kind) => ({
      file: `retention-0/held-${kind}.sql`,
      builtBy: `write-task.ts (heldTaskWrites.${kind}) and ending-writes.ts, with finalTaskRetention: 0`,
      text: deleting.held[kind],
    })),
    {
      file: 'retention-0/cancel-by-process-instance-id.sql',
      builtBy: 'write-task.ts (cancelTasks) and ending-writes.ts, with finalTaskRetention: 0',
      text: deleting.cancel.processInstanceId,
    },
    {
      file: 'retention-0/prune-final-tasks.sql',
      builtBy: 'prune-final-tasks.ts (pruneFinalTasks), with finalTaskRetention: 0',
      text: deleting.pruneFinal,
    },
    { file: 'get.sql', builtBy: 'read-tasks.ts (getTask)', text: store.get },
    { file: 'count-by-topic.sql', builtBy: 'read-tasks.ts (countByTopic)', text: store.count },
    {
      file: 'ms-until-next-available.sql',
      builtBy: 'read-tasks.ts (msUntilNextAvailable)',
      text: store.nextAvailable,
    },
    queryExample('query-by-state.sql', { state: ['failed', 'cancelled'], limit: 100 }),
    queryExample('query-by-worker-locked.sql', { workerId: 'worker-1', locked: true }),
    {
      file: 'prune-final-tasks.sql',
      builtBy: 'prune-final-tasks.ts (pruneFinalTasks)',
      text: store.pruneFinal,
    },
    { file: 'pending-topics.sql', builtBy: 'pending-topics.ts (pendingTopics)', text: pendingTopics(names) },
    ...Object.entries(store.consumerLeases).map(([kind, text]) => ({
      file: `consumer-lease-${kebab(kind)}.sql`,
      builtBy: `consumer-leases.ts (consumerLeaseStatements.${kind})`,
      text,
    })),
    { file: 'feed-ends.sql', builtBy: 'change-feed.ts (changeFeedStatements.ends)', text: feed.ends },
    { file: 'feed-read.sql', builtBy: 'change-feed.ts (changeFeedStatements.read)', text: feed.read },
    ...Object.entries(store.migrate).map(([step, text]) => ({
      file: `migrate-${kebab(step)}.sql`,
      builtBy: `migrate.ts (migrateStatements.${step})`,
      text,
    })),
    ...migrations.map((migration) => ({
      file: `migrations/v${migration.version}.sql`,
      builtBy: `migrations/ (version ${migration.version}: ${migration.description})`,
      text: migration.statements(names).join(';\n\n'),
    })),
  ];
  return rendered.map((entry) => ({ ...entry, text: fileText(entry) }));
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

function fileText({ file, builtBy, text }: Rendered): string {
  const options = file.startsWith('retention-0/') ? 'options but finalTaskRetention: 0' : 'default options';
  const body = text.replace(/^\n+/, '').replace(/\s+$/, '');
  return (
    `-- Built by lib/postgres/sql/${builtBy}.\n` +
    `-- Rendered for the schema "${SCHEMA}" and the ${options} by npm run docs:sql; do not edit.\n\n` +
    `${body};\n`
  );
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const { file, text } of renderedSql()) {
    const target = path.join(renderedSqlDirectory, file);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, text);
  }
  console.log(`wrote ${renderedSql().length} statements to ${renderedSqlDirectory}`);
}
