import { expect } from 'chai';
import pg from 'pg';
import { PostgresExternalTaskRepository } from '../../lib/postgres/index.js';
import type { ExternalTaskChange } from '../../lib/repository/index.js';
import { eventually } from '../postgres/faults/backends.js';
import { quietLogger } from '../postgres/support.js';
import { runPgliteKillLoop } from './pglite-kill-loop.js';
import { canMakeCluster, PostgresCluster } from './postgres-cluster.js';
import { runServerCrashLoop } from './server-crash-loop.js';

/** For a test that needs a cluster of its own: skips without initdb/pg_ctl, except under CI=true. */
function requireCluster(context: Mocha.Context): void {
  if (canMakeCluster()) return;
  if (process.env.CI === 'true') throw new Error('initdb and pg_ctl are needed to run the crash tests in CI');
  console.log('  (skipped: no initdb/pg_ctl on this machine to make a PostgreSQL cluster with)');
  context.skip();
}

/** Progress lines of the loops, kept for a failure's message. */
function progress(): { readonly lines: string[]; readonly print: (line: string) => void } {
  const lines: string[] = [];
  return { lines, print: (line) => void lines.push(line) };
}

// The small run of `npm run test:crash` (spec/crash/crash.ts, which runs it at length): the same loops and
// checks, a few rounds and kills, every kind of fault in every round.
describe('Crashes at random moments (a short run of npm run test:crash)', function () {
  this.timeout(180_000);

  it('on a PostgreSQL cluster of its own: every invariant holds through rounds of every kind of fault', async function () {
    if (!canMakeCluster()) {
      if (process.env.CI === 'true')
        throw new Error('initdb and pg_ctl are needed to run the crash loop in CI');
      console.log('  (crash loop on PostgreSQL skipped: no initdb/pg_ctl on this machine)');
      this.skip();
    }
    const { lines, print } = progress();
    const result = await runServerCrashLoop({
      rounds: 2,
      tasksPerRound: 60,
      processes: 4,
      workersPerProcess: 4,
      concurrency: 2,
      lockMs: 1000,
      faultChance: 1,
      print,
    });
    expect(result.violations, lines.join('\n')).to.deep.equal([]);
    expect(result.roundsSurvived).to.equal(2);
    expect(result.tasks).to.equal(120);
    const { faults } = result;
    expect(faults, 'the faults brought').to.include({
      'kill-worker': 2,
      'kill-engine': 2,
      'terminate-backends': 2,
    });
    expect((faults['restart-server (fast)'] ?? 0) + (faults['restart-server (immediate)'] ?? 0)).to.equal(2);
  });

  it('on PGlite: a process killed while it writes leaves every acknowledged write in its data directory', async () => {
    const { lines, print } = progress();
    const result = await runPgliteKillLoop({ kills: 2, print });
    expect(result.violations, lines.join('\n')).to.deep.equal([]);
    expect(result.killsSurvived).to.equal(2);
    expect(result.tasks, 'tasks written before the kills').to.be.greaterThan(0);
  });

  it('with synchronousCommit false, a server crash undoes changes a subscriber was handed, and their positions go to later changes it does not get (docs/deployment.md)', async function () {
    requireCluster(this);
    const cluster = await PostgresCluster.create();
    const opened: PostgresExternalTaskRepository[] = [];
    try {
      // The WAL writer flushes asynchronous commits every 10 s instead of 200 ms: the crash comes first.
      const admin = new pg.Client({ connectionString: cluster.url });
      await admin.connect();
      await admin.query(`ALTER SYSTEM SET wal_writer_delay = '10s'`);
      await admin.end();
      await cluster.stop('fast');
      await cluster.start();
      const open = (synchronousCommit: boolean): PostgresExternalTaskRepository => {
        const repository = new PostgresExternalTaskRepository(
          { connectionString: cluster.url },
          { schema: 'et_async', logger: quietLogger(), safetyRecheckMs: 100, synchronousCommit },
        );
        opened.push(repository);
        return repository;
      };
      const engine = open(true);
      const writer = open(false);
      await engine.migrate();
      const seen: ExternalTaskChange[] = [];
      await engine.subscribe({ after: 0, onChange: (change) => void seen.push(change) });
      const task = (name: string) => ({
        topic: 't',
        correlationId: name,
        processInstanceId: name,
        flowNodeInstanceId: name,
      });

      const undone = await writer.create(task('undone'));
      await eventually(() => seen.length === 1, 'the subscriber to be handed the creation');
      await cluster.stop('immediate');
      await cluster.start();

      expect(await engine.getById(undone.id), 'the creation acknowledged before the crash').to.equal(
        undefined,
      );
      const reused = await writer.create(task('after the crash'));
      const next = await engine.create(task('next'));
      await eventually(() => seen.some((change) => change.task.id === next.id), 'the change after');
      expect(seen.map((change) => [change.position, change.task.correlationId])).to.deep.equal([
        [1, 'undone'],
        [2, 'next'],
      ]);
      // The store gave position 1 again, to a change this subscriber never got; a new one gets it.
      const fresh: ExternalTaskChange[] = [];
      await engine.subscribe({ after: 0, onChange: (change) => void fresh.push(change) });
      await eventually(() => fresh.length === 2, 'a new subscriber to read the feed');
      expect(fresh.map((change) => [change.position, change.task.id])).to.deep.equal([
        [1, reused.id],
        [2, next.id],
      ]);
    } finally {
      for (const repository of opened) await repository.close();
      await cluster.destroy();
    }
  });
});
