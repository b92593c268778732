import { expect } from 'chai';
import type { ExternalTaskChange } from '../../lib/repository/index.js';
import { SharedStore } from './shared-store.js';
import { requireServer } from './support.js';

/** Waits (a real-time bound, polling) until `done()` holds. */
async function eventually(done: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) expect.fail(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('PostgresExternalTaskRepository change feed and hints between processes', function () {
  this.timeout(60_000);
  let store: SharedStore;

  before(async function () {
    await requireServer(this);
  });

  beforeEach(() => {
    store = new SharedStore();
  });

  afterEach(async () => {
    await store?.close();
  });

  it('delivers every change of every process to a subscriber in another, in order, without gaps', async () => {
    const engine = store.open();
    const writers = [store.open(), store.open()];
    await engine.migrate();
    const seen: ExternalTaskChange[] = [];
    await engine.subscribe({ onChange: (change) => void seen.push(change) });

    await Promise.all(
      writers.map(async (writer, w) => {
        for (let i = 0; i < 30; i++) {
          const task = await writer.create(store.newTask(`topic-${w}`));
          await writer.cancel({ externalTaskId: task.id });
        }
      }),
    );
    const end = await writers[0]!.currentPosition();
    await eventually(() => seen.length >= end, `${end} changes (got ${seen.length})`);

    expect(seen.map((change) => change.position)).to.deep.equal(Array.from({ length: end }, (_, i) => i + 1));
    for (const id of new Set(seen.map((change) => change.task.id))) {
      expect(seen.filter((change) => change.task.id === id).map((change) => change.type)).to.deep.equal([
        'created',
        'cancelled',
      ]);
    }
  });

  it('lets a new store resume after the position an old one handled: each change once', async () => {
    const writer = store.open();
    await writer.migrate();
    const engine = store.open();
    const handled: ExternalTaskChange[] = [];
    const feed = await engine.subscribe({ onChange: (change) => void handled.push(change) });
    for (let i = 0; i < 5; i++) await writer.create(store.newTask('resume'));
    await eventually(() => handled.length === 5, 'the first five changes');
    await feed.close();
    const position = feed.position;
    await engine.close();

    for (let i = 0; i < 5; i++) await writer.create(store.newTask('resume'));
    const restarted = store.open();
    const resumed: ExternalTaskChange[] = [];
    await restarted.subscribe({ after: position, onChange: (change) => void resumed.push(change) });
    await writer.create(store.newTask('resume'));
    await eventually(() => resumed.length === 6, `six resumed changes (got ${resumed.length})`);

    const all = [...handled, ...resumed].map((change) => change.position);
    expect(all).to.deep.equal(Array.from({ length: 11 }, (_, i) => i + 1));
  });

  it('recovers the feed and the hints when its LISTEN connection is terminated, losing no change', async () => {
    const engine = store.open('et-listening-engine');
    const writer = store.open();
    await engine.migrate();
    const seen: ExternalTaskChange[] = [];
    await engine.subscribe({ onChange: (change) => void seen.push(change) });
    const hinted: string[] = [];
    await engine.watchAvailability((hints) => hinted.push(...hints.map((hint) => hint.topic)));
    await writer.create(store.newTask('before'));
    await eventually(() => seen.length === 1 && hinted.includes('before'), 'the first change and hint');

    const { rowCount } = await store.admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE application_name = 'et-listening-engine' AND query LIKE 'LISTEN%'`,
    );
    expect(rowCount).to.equal(1);
    for (let i = 0; i < 5; i++) await writer.create(store.newTask('while-away'));
    await eventually(
      () => seen.length === 6,
      `the changes made while the connection was away (${seen.length})`,
    );
    const listening = async (): Promise<number> =>
      (
        await store.admin.query(
          `SELECT pid FROM pg_stat_activity WHERE application_name = 'et-listening-engine' AND query LIKE 'LISTEN%'`,
        )
      ).rowCount ?? 0;
    // Hints are lossy: those sent while the connection was away are gone. Once it listens again, they come.
    const deadline = Date.now() + 10_000;
    while ((await listening()) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await writer.create(store.newTask('after'));
    await eventually(() => hinted.includes('after'), 'a hint after the reconnection');
    await eventually(() => seen.length === 7, 'the change after the reconnection');

    expect(seen.map((change) => change.position)).to.deep.equal([1, 2, 3, 4, 5, 6, 7]);
  });

  it('halts a subscriber with onHalt before a change it failed on; resubscribing delivers that change again', async () => {
    const repository = store.open();
    await repository.migrate();
    const halted: { error: unknown; change: ExternalTaskChange | undefined }[] = [];
    const failing = await repository.subscribe({
      onChange: (change) => {
        if (change.type === 'cancelled') throw new Error('engine down');
      },
      onHalt: (error, change) => void halted.push({ error, change }),
    });
    const task = await repository.create(store.newTask('halt'));
    await repository.cancel({ externalTaskId: task.id });
    await repository.create(store.newTask('halt'));
    await eventually(() => halted.length === 1, 'the halt');

    expect(halted[0]!.change?.type).to.equal('cancelled');
    expect(failing.position).to.equal(1);
    const again: ExternalTaskChange[] = [];
    await repository.subscribe({ after: failing.position, onChange: (change) => void again.push(change) });
    await eventually(() => again.length === 2, 'the failed change and the next one');
    expect(again.map((change) => change.type)).to.deep.equal(['cancelled', 'created']);
  });

  it('answers again after its pool connections were terminated mid-run', async () => {
    const repository = store.open('et-terminated-pool');
    await repository.migrate();
    await repository.create(store.newTask('pool'));
    await store.admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'et-terminated-pool'`,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));

    await repository.create(store.newTask('pool'));
    const [counts] = await repository.countByTopic(['pool']);
    expect(counts).to.include({ available: 2 });
  });
});
