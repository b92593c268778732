/**
 * The write-ahead log a schema's relations received during a phase, counted exactly: `pg_waldump` over
 * the phase's range of the local server's WAL, keeping the records that touch a relation of the schema
 * (its tables, indexes and TOAST). Commit records touch no relation and are not counted (one per
 * transaction, the same for every store). Needs the server on this machine, its data directory readable
 * and `pg_waldump` of the server's version; undefined otherwise.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';

/** WAL records and bytes per task. */
export interface WalPerTask {
  readonly records: number;
  readonly bytes: number;
}

async function one<R>(connectionString: string, text: string, params: unknown[] = []): Promise<R> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return (await client.query(text, params)).rows[0] as R;
  } finally {
    await client.end();
  }
}

/** The server's WAL position now (a mark where a phase starts). */
export async function walMark(connectionString: string): Promise<string> {
  return (await one<{ lsn: string }>(connectionString, 'SELECT pg_current_wal_insert_lsn()::text AS lsn'))
    .lsn;
}

/** One kind of WAL record a relation received: per task, e.g. `pending Heap UPDATE` 1.00. */
export interface WalKind {
  readonly relation: string;
  readonly record: string;
  readonly perTask: number;
}

/** The WAL records of one phase that touched the relations of a schema, each with its relation's name. */
async function schemaRecords(
  connectionString: string,
  schema: string,
  mark: string,
): Promise<{ relation: string; record: string; bytes: number }[] | undefined> {
  const { end, dir, major, nodes } = await one<{
    end: string;
    dir: string;
    major: string;
    nodes: { node: string; name: string }[];
  }>(
    connectionString,
    `SELECT pg_current_wal_flush_lsn()::text AS end, current_setting('data_directory') AS dir,
            (current_setting('server_version_num')::int / 10000)::text AS major,
            coalesce(json_agg(DISTINCT jsonb_build_object('node', pg_relation_filenode(r)::text, 'name', r::regclass::text)), '[]') AS nodes
       FROM (
              SELECT c.oid AS r FROM pg_class c WHERE c.relnamespace = $1::regnamespace
              UNION ALL SELECT c.reltoastrelid FROM pg_class c WHERE c.relnamespace = $1::regnamespace AND c.reltoastrelid <> 0
              UNION ALL SELECT i.indexrelid FROM pg_class c JOIN pg_index i ON i.indrelid = c.reltoastrelid
                WHERE c.relnamespace = $1::regnamespace
            ) rels WHERE pg_relation_filenode(r) IS NOT NULL`,
    [schema],
  );
  const waldump = `/usr/lib/postgresql/${major}/bin/pg_waldump`;
  if (!existsSync(waldump)) return undefined;
  const dumped = spawnSync(waldump, ['-p', path.join(dir, 'pg_wal'), '-s', mark, '-e', end], {
    maxBuffer: 1 << 30,
    encoding: 'utf8',
  });
  if (dumped.status !== 0 && dumped.stdout.length === 0) return undefined;
  const ours = new Map(nodes.map(({ node, name }) => [node, name.replace(/^.*\./, '')]));
  const records = [];
  for (const line of dumped.stdout.split('\n')) {
    const relation = [...line.matchAll(/rel \d+\/\d+\/(\d+)/g)]
      .map(([, node]) => ours.get(node!))
      .find((name) => name !== undefined);
    if (relation === undefined) continue;
    const rmgr = /rmgr: (\S+)/.exec(line)?.[1] ?? '?';
    const desc = /desc: (\S+)/.exec(line)?.[1] ?? '?';
    const bytes = Number(/len \(rec\/tot\):\s*\d+\/\s*(\d+)/.exec(line)?.[1] ?? 0);
    records.push({ relation, record: `${rmgr} ${desc}`, bytes });
  }
  return records;
}

/**
 * The WAL records and bytes per task that the relations of `schema` received from `mark` to now, for
 * `tasks` tasks. Call it before the schema is dropped.
 */
export async function walPerTask(
  connectionString: string,
  schema: string,
  mark: string,
  tasks: number,
): Promise<WalPerTask | undefined> {
  const records = await schemaRecords(connectionString, schema, mark);
  if (records === undefined) return undefined;
  const bytes = records.reduce((sum, record) => sum + record.bytes, 0);
  return { records: records.length / tasks, bytes: bytes / tasks };
}

/**
 * The same records by relation and kind (most first), per task: where each record of
 * {@link walPerTask} goes.
 */
export async function walKinds(
  connectionString: string,
  schema: string,
  mark: string,
  tasks: number,
): Promise<WalKind[] | undefined> {
  const records = await schemaRecords(connectionString, schema, mark);
  if (records === undefined) return undefined;
  const counts = new Map<string, { relation: string; record: string; count: number }>();
  for (const { relation, record } of records) {
    const key = `${relation} ${record}`;
    const entry = counts.get(key) ?? { relation, record, count: 0 };
    entry.count++;
    counts.set(key, entry);
  }
  return [...counts.values()]
    .map(({ relation, record, count }) => ({ relation, record, perTask: count / tasks }))
    .sort((a, b) => b.perTask - a.perTask);
}
