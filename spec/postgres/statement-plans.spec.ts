import { expect } from 'chai';
import type pg from 'pg';
import { PostgresExternalTaskRepository } from '../../lib/postgres/index.js';
import {
  cancelTasks,
  claimTasks,
  engineWrites,
  msUntilNextAvailable,
  pruneFinalTasks,
  sqlNames,
} from '../../lib/postgres/sql/index.js';
import { pendingTopics } from '../../lib/postgres/sql/pending-topics.js';
import {
  dropSchema,
  fileTaskPlaces,
  freshSchema,
  quietLogger,
  serverUrl,
  useServerAdmin,
} from './support.js';

const READY = 20_000;
const FINAL = 10_000;
const LOCKS = 20_000;

/**
 * A statement's plan as the store's connections run it (generic, no JIT; see `sessionSettings` in
 * lib/postgres/driver/pg-driver.ts): `EXPLAIN (options)` of the prepared statement in a transaction
 * rolled back. `execute`: the parameters of `EXECUTE`, as SQL literals in parentheses, or ''.
 */
async function genericPlan(
  client: pg.PoolClient,
  text: string,
  execute: string,
  options = 'COSTS OFF',
): Promise<string> {
  await client.query('BEGIN');
  try {
    await client.query('SET LOCAL plan_cache_mode = force_generic_plan');
    await client.query('SET LOCAL jit = off');
    await client.query(`PREPARE planned AS ${text}`);
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (${options}) EXECUTE planned${execute}`,
    );
    return rows.map((row) => row['QUERY PLAN']).join('\n');
  } finally {
    await client.query('ROLLBACK');
    await client.query('DEALLOCATE ALL');
  }
}

/** The shared buffers an `EXPLAIN (ANALYZE, BUFFERS)` plan read: its top node's, which count all. */
function buffersRead(plan: string): number {
  const [, hit, read] = /Buffers: shared(?: hit=(\d+))?(?: read=(\d+))?/.exec(plan) ?? [];
  return Number(hit ?? 0) + Number(read ?? 0);
}

/**
 * The most rows an `EXPLAIN ANALYZE` plan's node produced or removed by a filter (per loop): how much of
 * the table it went through at one place.
 */
function mostRows(plan: string): number {
  const counts = [...plan.matchAll(/rows=(\d+)|Rows Removed by \w+: (\d+)/g)];
  return Math.max(...counts.map(([, rows, removed]) => Number(rows ?? removed)));
}

describe('PostgresExternalTaskRepository statement plans', function () {
  this.timeout(60_000);
  const admin = useServerAdmin();
  const schema = freshSchema();
  const names = sqlNames(schema);
  let client: pg.PoolClient;

  /** Creates the store's schema (each group of tests fills it, and drops it after its tests). */
  async function migrateSchema(): Promise<void> {
    const repository = new PostgresExternalTaskRepository(
      { connectionString: serverUrl },
      { schema, logger: quietLogger() },
    );
    await repository.migrate();
    await repository.close();
  }

  /**
   * A claim of 16 as the store runs it (generic plan; undone), scoped to the tenants or not: the tasks'
   * ids, in hand-out order.
   */
  async function claimed(topic: string, tenants: string[] | null = null): Promise<string[]> {
    await client.query('BEGIN');
    try {
      await client.query('SET LOCAL plan_cache_mode = force_generic_plan');
      const { rows } = await client.query<{ id: string }>(claimTasks(names, 100_000), [
        null,
        [topic],
        [30_000],
        16,
        ['worker'],
        [16],
        tenants,
        null,
      ]);
      return rows.map((row) => row.id);
    } finally {
      await client.query('ROLLBACK');
    }
  }

  /** The first 16 tasks of the topic (of the tenants, if given) that a claim may take, in hand-out order. */
  async function firstAvailable(topic: string, tenants: string[] | null = null): Promise<string[]> {
    const { rows } = await client.query<{ id: string }>(
      `SELECT id FROM "${schema}".tasks WHERE topic = $1 AND state = 'pending'
       AND coalesce(lock_expires_at, retry_at, now()) <= now() AND ($2::text[] IS NULL OR tenant_id = ANY($2))
       ORDER BY priority DESC, sequence LIMIT 16`,
      [topic, tenants],
    );
    return rows.map((row) => row.id);
  }

  describe('on a backlog of 20,000 ready tasks and 10,000 final ones, in few process instances, with fresh statistics', () => {
    before(async () => {
      await migrateSchema();
      // A backlog of ready tasks in one topic, in ten process instances of 2,000 tasks (a fan-out).
      await admin.pool.query(
        `INSERT INTO "${schema}".tasks (topic, flow_node_instance_id, correlation_id, process_instance_id,
         payload, priority, created_at)
         SELECT 'backlog', 'f' || i, 'c' || i, 'p' || (i % 10), '{}', i % 3, now()
         FROM generate_series(1, ${READY}) i`,
      );
      // Final tasks of ten other process instances, ended two days ago, for the sweep and deleteFinal.
      await admin.pool.query(
        `INSERT INTO "${schema}".tasks (topic, flow_node_instance_id, correlation_id, process_instance_id,
         payload, priority, created_at, state, finished_at)
         SELECT 'archive', 'g' || i, 'c' || i, 'done-' || (i % 10), '{}', 0, now() - interval '2 days',
                'finished', now() - interval '2 days'
         FROM generate_series(1, ${FINAL}) i`,
      );
      // A topic whose only pending task is locked: it has no entry in pending_ready.
      await admin.pool.query(
        `INSERT INTO "${schema}".tasks (topic, flow_node_instance_id, correlation_id, process_instance_id,
         payload, priority, created_at, worker_id, lock_expires_at)
         VALUES ('held', 'h', 'c', 'q', '{}', 0, now(), 'w', now() + interval '1 hour')`,
      );
      await fileTaskPlaces(admin.pool, schema);
      client = await admin.pool.connect();
    });

    after(async () => {
      client?.release();
      await dropSchema(admin.pool, schema);
    });

    it('claim: reads the backlog from pending_ready and updates the dealt tasks by key, never the whole table', async () => {
      const workers = Array.from({ length: 16 }, (_, i) => `'worker-${i}'`);
      const plan = await genericPlan(
        client,
        claimTasks(names, 100_000),
        `(NULL, ARRAY['backlog'], ARRAY[30000], 16, ARRAY[${workers.join(', ')}], ` +
          `ARRAY[${workers.map(() => 1).join(', ')}], NULL, NULL)`,
      );

      expect(plan).to.match(/Index Scan using pending_ready on pending/);
      expect(plan).not.to.match(/Seq Scan on (tasks|pending|ended)/);
    });

    it('msUntilNextAvailable of a topic without ready tasks: one look into pending_ready, not a scan of the backlog', async () => {
      const plan = await genericPlan(
        client,
        msUntilNextAvailable(names),
        `(NULL, ARRAY['held'], NULL, NULL)`,
      );

      expect(plan).to.match(/Index Scan using pending_ready on pending/);
      expect(plan).not.to.match(/Seq Scan on (tasks|pending|ended)/);
    });

    it('a cancel of a process instance updates its tasks by key, never the whole table', async () => {
      const plan = await genericPlan(
        client,
        cancelTasks(names, 100_000, 'process_instance_id'),
        `(NULL, 'p1')`,
      );

      expect(plan).not.to.match(/Seq Scan on (tasks|pending|ended)/);
    });

    it("deleteFinal of a process instance's final tasks deletes them by key, never the whole table", async () => {
      const plan = await genericPlan(client, engineWrites(names, 100_000).deleteFinal, `('done-1')`);

      expect(plan).not.to.match(/Seq Scan on (tasks|pending|ended)/);
    });

    it('the final-task sweep deletes its batch by key, never the whole table', async () => {
      const plan = await genericPlan(client, pruneFinalTasks(names), `(NULL, 86400000)`);

      expect(plan).to.match(/Index Scan using ended_finished on ended/);
      expect(plan).not.to.match(/Seq Scan on (tasks|pending|ended)/);
    });

    it('pendingTopics reads a few index entries per topic, not every pending task, and finds every such topic', async () => {
      const plan = await genericPlan(client, pendingTopics(names), '', 'ANALYZE, BUFFERS, COSTS OFF');
      const { rows } = await admin.pool.query<{ topic: string }>(pendingTopics(names));

      expect(rows.map((row) => row.topic).sort()).to.deep.equal(['backlog', 'held']);
      // Reading the topic of every pending task (a sequential scan of the table) took about 480.
      expect(buffersRead(plan)).to.be.below(40);
    });
  });

  describe('on 20,000 expired locks of one topic and locks still held ahead of due and ready tasks in others', () => {
    const claim16 = (topic: string): string =>
      `(NULL, ARRAY['${topic}'], ARRAY[30000], 16, ARRAY['worker'], ARRAY[16], NULL, NULL)`;

    before(async () => {
      await migrateSchema();
      const insert = (topic: string, priority: string, lock: string, count: number) =>
        admin.pool.query(
          `INSERT INTO "${schema}".tasks (topic, flow_node_instance_id, correlation_id, process_instance_id,
           payload, priority, created_at, worker_id, lock_expires_at)
           SELECT '${topic}', 'f' || i, 'c' || i, 'p' || i, '{}', ${priority}, now(),
                  CASE WHEN ${lock} IS NULL THEN NULL ELSE 'w' END, ${lock}
           FROM generate_series(1, ${count}) i`,
        );
      // The locks of a fleet of workers that died, in a mix of priorities.
      await insert('expired', 'i % 3', "now() - interval '1 minute'", LOCKS);
      // The locks of a fleet that lives, ahead of a few expired locks and ready tasks.
      await insert('held', '100', "now() + interval '1 hour'", LOCKS);
      await insert('held', 'i % 3', "now() - interval '1 minute'", 50);
      await insert('held', 'i % 3', 'NULL::timestamptz', 100);
      // Held locks ahead of more due tasks than a claim sorts at once: the walk passes over 10,000 of
      // them, finds none due, and sorts the due ones.
      await insert('behind', '100', "now() + interval '1 hour'", 12_000);
      await insert('behind', 'i % 3', "now() - interval '1 minute'", 150);
      await fileTaskPlaces(admin.pool, schema);
      client = await admin.pool.connect();
    });

    after(async () => {
      client?.release();
      await dropSchema(admin.pool, schema);
    });

    // A claim that sorts every due task reads all 20,000 expired locks; one that walks the waiting tasks
    // in hand-out order without a bound reads all the held ones (12,000 behind, 20,000 held); one that
    // walks though few are due reads 10,000 held ones. The most rows a node of the plan may go through:
    const bounds = { expired: 1_000, held: 150, behind: 10_000 };
    for (const [topic, bound] of Object.entries(bounds)) {
      it(`claim of 16 (${topic}): the first 16 tasks in hand-out order, never going through every lock`, async () => {
        const plan = await genericPlan(
          client,
          claimTasks(names, 100_000),
          claim16(topic),
          'ANALYZE, COSTS OFF',
        );

        expect(await claimed(topic)).to.deep.equal(await firstAvailable(topic));
        expect(mostRows(plan)).to.be.at.most(bound);
      });
    }
  });
  describe('on a backlog of 20,000 ready tasks of other tenants beside a few of small ones, in one topic', () => {
    const scoped = (tenants: string) =>
      `(NULL, ARRAY['crowded'], ARRAY[30000], 16, ARRAY['worker'], ARRAY[16], ${tenants}, NULL)`;

    before(async () => {
      await migrateSchema();
      // Ten big tenants; 'small' holds every 400th task (50, a mix of priorities, spread through the
      // backlog), 'tiny' every 3,000th (6); 'idle' has only a locked task and tasks without a tenant
      // are in no scope.
      await admin.pool.query(
        `INSERT INTO "${schema}".tasks (topic, flow_node_instance_id, correlation_id, process_instance_id,
         payload, priority, created_at, tenant_id)
         SELECT 'crowded', 'f' || i, 'c' || i, 'p' || i, '{}', i % 3, now(),
                CASE WHEN i % 400 = 0 THEN 'small' WHEN i % 3000 = 7 THEN 'tiny'
                     WHEN i % 1000 = 1 THEN NULL ELSE 'big-' || (i % 10) END
         FROM generate_series(1, ${READY}) i`,
      );
      await admin.pool.query(
        `INSERT INTO "${schema}".tasks (topic, flow_node_instance_id, correlation_id, process_instance_id,
         payload, priority, created_at, tenant_id, worker_id, lock_expires_at)
         VALUES ('crowded', 'h', 'c', 'q', '{}', 5, now(), 'idle', 'w', now() + interval '1 hour')`,
      );
      await fileTaskPlaces(admin.pool, schema);
      client = await admin.pool.connect();
    });

    after(async () => {
      client?.release();
      await dropSchema(admin.pool, schema);
    });

    // Filtering pending_ready by the tenant list walks the other tenants' entries ahead of the scope's
    // tasks: about 5,000 for 16 of 'small', all 20,000 for 'idle'. Each tenant's own entries: 16 at most.
    const scopes: Record<string, string[]> = { small: ['small'], three: ['small', 'tiny', 'small', 'idle'] };
    for (const [name, tenants] of Object.entries(scopes)) {
      it(`claim of 16 scoped to ${tenants.join(', ')}: their first 16 tasks in hand-out order, reading only their entries`, async () => {
        const list = `ARRAY[${tenants.map((tenant) => `'${tenant}'`).join(', ')}]`;
        const plan = await genericPlan(
          client,
          claimTasks(names, 100_000),
          scoped(list),
          'ANALYZE, COSTS OFF',
        );

        expect(await claimed('crowded', tenants)).to.deep.equal(await firstAvailable('crowded', tenants));
        expect(await claimed('crowded', tenants)).to.have.length(16, name);
        expect(mostRows(plan)).to.be.at.most(100);
      });
    }

    it('claim scoped to an empty tenant list or to tenants without ready tasks: nothing, reading nothing', async () => {
      const plan = await genericPlan(
        client,
        claimTasks(names, 100_000),
        scoped(`ARRAY['idle']`),
        'ANALYZE, COSTS OFF',
      );

      expect(await claimed('crowded', ['idle'])).to.deep.equal([]);
      expect(await claimed('crowded', [])).to.deep.equal([]);
      expect(mostRows(plan)).to.be.at.most(100);
    });

    it('msUntilNextAvailable scoped to a tenant: one look per tenant, never a walk of the backlog', async () => {
      const ask = (tenants: string) => `(NULL, ARRAY['crowded'], ${tenants}, NULL)`;
      const idle = await genericPlan(
        client,
        msUntilNextAvailable(names),
        ask(`ARRAY['idle']`),
        'ANALYZE, COSTS OFF',
      );
      const small = await genericPlan(
        client,
        msUntilNextAvailable(names),
        ask(`ARRAY['small']`),
        'ANALYZE, COSTS OFF',
      );
      const answer = async (tenants: string[]) =>
        (
          await client.query<{ ms: number | null }>(msUntilNextAvailable(names), [
            null,
            ['crowded'],
            tenants,
            null,
          ])
        ).rows[0]!.ms;

      expect(await answer(['small'])).to.equal(0);
      expect(await answer(['idle'])).to.be.within(3_500_000, 3_600_000);
      expect(await answer([])).to.equal(null);
      expect(mostRows(idle)).to.be.at.most(10);
      expect(mostRows(small)).to.be.at.most(10);
    });
  });
});
