import { expect } from 'chai';
import { ExternalTaskApi } from '../../lib/index.js';
import type { ExternalTask } from '../../lib/model/index.js';
import { PostgresExternalTaskRepository } from '../../lib/postgres/index.js';
import type { ChangeFeed } from '../../lib/repository/index.js';
import { ChildScript } from './processes/child-script.js';
import { LockLedger } from './processes/lock-ledger.js';
import type { StressMessage, StressSummary } from './processes/stress-messages.js';
import { dropServerSchema, freshSchema, quietLogger, requireServer, serverUrl } from './support.js';

const processes = 4;
const workersPerProcess = 4;
const taskCount = 3000;
const batchSize = 200;
const lockMs = 250;
const topic = 'stress';

/** Waits (a real-time bound, polling) until `done()` holds; fails saying what did not happen. */
async function eventually(done: () => boolean, what: () => string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) expect.fail(`gave up after ${ms} ms waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('PostgresExternalTaskRepository under real concurrency: 4 processes × 4 workers, short locks', function () {
  this.timeout(120_000);
  const schema = freshSchema();
  const children: ChildScript<StressMessage>[] = [];
  let repository: PostgresExternalTaskRepository | undefined;
  let api: ExternalTaskApi | undefined;
  let feed: ChangeFeed | undefined;

  before(async function () {
    await requireServer(this);
  });

  after(async () => {
    // Children first: nothing may outlive the test, and none may write while the schema goes.
    await Promise.all(children.map((child) => child.kill()));
    await feed?.close();
    await api?.close();
    if (!repository) return; // skipped: nothing was made
    await repository.close();
    await dropServerSchema(schema);
  });

  it('never lets two workers hold overlapping locks, gives every task one outcome, and tells the engine each once', async () => {
    const startedAt = Date.now();
    for (let p = 0; p < processes; p++) {
      children.push(
        new ChildScript<StressMessage>(`stress process ${p}`, 'spec/postgres/processes/stress-worker.ts', [
          serverUrl,
          schema,
          String(p),
          String(workersPerProcess),
          topic,
          String(lockMs),
        ]),
      );
    }
    repository = new PostgresExternalTaskRepository(
      { connectionString: serverUrl },
      { schema, logger: quietLogger(), applicationName: 'et-stress-engine', changesRetained: 10_000_000 },
    );
    await repository.migrate(); // at the same time as the children's migrations
    const engineLogger = quietLogger();
    api = new ExternalTaskApi({ repository, logger: engineLogger });
    const outcomeEvents = new Map<string, number>();
    const count = ({ task }: { task: ExternalTask }): void =>
      void outcomeEvents.set(task.id, (outcomeEvents.get(task.id) ?? 0) + 1);
    api.events.on('task:finished', count);
    api.events.on('task:failed', count);
    const ledger = new LockLedger(lockMs);
    const positions: number[] = [];
    feed = await repository.subscribe({
      after: 0,
      onChange: (change) => {
        positions.push(change.position);
        ledger.apply(change);
      },
    });
    // A fetch waits until the api's own feed is attached, so its events cover every outcome to come.
    await api.fetchAndLock(
      { token: 'engine' },
      { workerId: 'engine', topics: [{ topicName: 'none', lockDuration: 1 }], maxTasks: 1 },
    );
    await Promise.all(children.map((child) => child.message('ready', 30_000)));
    const readyAt = Date.now();

    const created = new Set<string>();
    for (let i = 0; i < taskCount; i += batchSize) {
      const tasks = await repository.createMany(
        Array.from({ length: batchSize }, (_, j) => ({
          topic,
          correlationId: `c-${i + j}`,
          processInstanceId: `pi-${i + j}`,
          flowNodeInstanceId: `fni-${i + j}`,
          payload: { n: i + j },
        })),
      );
      for (const task of tasks) created.add(task.id);
    }
    expect(created.size).to.equal(taskCount);

    await eventually(
      () => outcomeEvents.size === taskCount,
      () => `outcome events of all ${taskCount} tasks (got ${outcomeEvents.size})`,
      60_000,
    );
    const workedFor = Date.now() - readyAt;
    for (const child of children) child.send({ type: 'stop' });
    const summaries: StressSummary[] = await Promise.all(
      children.map((child) => child.message('summary', 15_000)),
    );
    const codes = await Promise.all(children.map((child) => child.exitCode(15_000)));
    const end = await repository.currentPosition();
    await eventually(
      () => feed!.position >= end,
      () => `the feed up to ${end} (at ${feed!.position})`,
      15_000,
    );

    const total = (field: 'claims' | 'reports' | 'extensions' | 'refusedLocked' | 'refusedGone'): number =>
      summaries.reduce((sum, summary) => sum + summary[field], 0);
    console.log(
      `      ${taskCount} tasks, ${processes}×${workersPerProcess} workers, ${lockMs} ms locks, worked ${workedFor} ms ` +
        `(${Date.now() - startedAt} ms in all): ${ledger.locks} locks, ${ledger.takeovers} takeovers, ` +
        `${ledger.extensions} extensions, ${end} changes`,
    );
    for (const summary of summaries) {
      console.log(
        `      process ${summary.processIndex}: ${summary.claims} claims, ${summary.reports} reports, ` +
          `${summary.extensions} extensions, refused ${summary.refusedLocked}×423 ${summary.refusedGone}×410`,
      );
    }

    expect(codes, 'exit codes of the children').to.deep.equal(children.map(() => 0));
    expect(
      summaries.flatMap((summary) => summary.unexpected),
      'unexpected errors in the children',
    ).to.deep.equal([]);
    expect(engineLogger.messages, 'what the engine logged').to.deep.equal([]);

    // The feed: every change once, in order, without gaps.
    expect(positions).to.have.length(end);
    expect(
      positions.every((position, i) => position === i + 1),
      'positions 1…end in order',
    ).to.equal(true);

    // (a) No two workers ever held overlapping locks on the same task.
    expect(ledger.violations.slice(0, 10), `${ledger.violations.length} violations`).to.deep.equal([]);
    // The test proves something only if locks really expired mid-flight and were taken over.
    expect(ledger.takeovers, 'takeovers of expired locks').to.be.greaterThan(50);
    expect(total('refusedLocked') + total('refusedGone'), 'refused reports').to.be.greaterThan(50);
    // Each claim is one `locked` change; each takeover ends the previous holder's attempt with a refusal.
    expect(total('claims'), 'claims = locked changes').to.equal(ledger.locks);
    expect(total('extensions'), 'extensions = extended changes').to.equal(ledger.extensions);
    expect(ledger.locks - taskCount, 'takeovers = locks beyond the first of each task').to.equal(
      ledger.takeovers,
    );
    expect(total('refusedLocked') + total('refusedGone'), 'one refusal per attempt taken over').to.equal(
      ledger.takeovers,
    );
    for (const summary of summaries)
      expect(summary.claims, `claims of process ${summary.processIndex}`).to.be.greaterThan(0);

    // (b) Every task has exactly one outcome: one finished/failed change, and that final state in the table.
    expect(total('reports'), 'accepted reports').to.equal(taskCount);
    expect(ledger.outcomes.size).to.equal(taskCount);
    const twice = [...ledger.outcomes].filter(([, changes]) => changes.length !== 1);
    expect(twice.slice(0, 5), `${twice.length} tasks with more than one outcome change`).to.deep.equal([]);
    const stored = new Map<string, ExternalTask>();
    for (let offset = 0; ; offset += 1000) {
      const page = await repository.query({ topic, limit: 1000, offset });
      for (const task of page.tasks) stored.set(task.id, task);
      if (page.tasks.length < 1000) break;
    }
    expect(new Set(stored.keys())).to.deep.equal(created);
    for (const [id, [change]] of ledger.outcomes) {
      const task = stored.get(id)!;
      expect(task.state, `state of ${id}`).to.equal(change!.type);
      expect(task.workerId, `reporter of ${id}`).to.equal(change!.task.workerId);
      expect(task.lockExpirationTime, `lock of ${id}`).to.equal(undefined);
      if (task.state === 'finished') expect(task.result).to.deep.equal({ by: task.workerId });
    }
    const [counts] = await repository.countByTopic([topic]);
    expect(counts).to.include({ available: 0, locked: 0, retrying: 0, cancelled: 0 });
    expect(counts!.finished + counts!.failed).to.equal(taskCount);

    // (c) Every outcome event reached the engine process exactly once.
    expect(new Set(outcomeEvents.keys())).to.deep.equal(created);
    const repeated = [...outcomeEvents].filter(([, n]) => n !== 1);
    expect(
      repeated.slice(0, 5),
      `${repeated.length} tasks whose outcome event came more than once`,
    ).to.deep.equal([]);
    expect(await repository.currentPosition(), 'nothing written after the end').to.equal(end);
  });
});
