import { expect } from 'chai';
import type { ExternalTaskChange } from '../../repository/external-task-repository.js';
import { START } from './case-inputs.js';
import type { ContractBed } from './contract-bed.js';
import { expectBadRequest, ids, tryToChange } from './expectations.js';
import { gate, someTurns, waitUntil } from './waiting.js';

/**
 * The cases of the change feed about its subscribers: each is awaited before its next change, and kept
 * from the others' failures and from what they do to the records they are handed; it can close (even
 * from inside its own handler), is halted at a change it failed on, and starts only at a position the
 * feed has had. `describeChangeFeed` registers them inside its `change feed` block.
 */
export function changeFeedSubscriberCases(bed: ContractBed): void {
  it('awaits an async subscriber before delivering it the next change; a slow subscriber holds back no other', async () => {
    const log: string[] = [];
    const handled = gate();
    const slow = await bed.record({
      onChange: async (change) => {
        log.push(`start ${change.type}`);
        if (change.type === 'created') await handled.opened;
        log.push(`end ${change.type}`);
      },
    });
    try {
      await bed.create();
      await bed.claim('worker', 1);
      await bed.settled();
      expect(await bed.changeTypes()).to.deep.equal(['created', 'locked']);
      await waitUntil(
        () => log.length > 0,
        () => 'the slow subscriber to receive its first change',
      );
      await someTurns();

      expect(log).to.deep.equal(['start created']);
    } finally {
      handled.open();
    }
    await slow.settled();
    expect(log).to.deep.equal(['start created', 'end created', 'start locked', 'end locked']);
  });

  it('completes the operation and still informs other listeners when a listener throws', async () => {
    const heardByThrower: string[] = [];
    const throwing = await bed.repository.subscribe({
      onChange: (change) => {
        heardByThrower.push(change.type);
        throw new Error('subscriber failure');
      },
    });
    const rejecting = await bed.record({
      onChange: () => Promise.reject(new Error('subscriber failure')),
    });
    try {
      const task = await bed.create();
      const claimed = await bed.claim('worker', 1);
      const result = await bed.finish(task.id, 'worker');

      expect(ids(claimed)).to.deep.equal([task.id]);
      expect(result.status).to.equal('ok');
      expect(await bed.changeTypes()).to.deep.equal(['created', 'locked', 'finished']);
      await waitUntil(
        () => heardByThrower.length >= 3 && rejecting.changes.length >= 3,
        () =>
          `the failing subscribers to receive 3 changes (${heardByThrower.length}, ${rejecting.changes.length})`,
      );
      expect(heardByThrower).to.deep.equal(['created', 'locked', 'finished']);
      expect(rejecting.changes.map((change) => change.type)).to.deep.equal(['created', 'locked', 'finished']);
    } finally {
      await throwing.close();
    }
  });

  it('stops delivering to a subscriber once it closed; closing twice is safe', async () => {
    const heard = await bed.record();
    await bed.create();
    await heard.settled();
    await heard.close();
    await bed.create();
    await bed.claim('worker', 10);

    expect(await bed.changeTypes()).to.deep.equal(['created', 'created', 'locked', 'locked']);
    await someTurns();
    expect(heard.changes.map((change) => change.type)).to.deep.equal(['created']);
    await heard.close();
  });

  it('resolves close() called from inside the subscriber’s own async onChange', async () => {
    let closed = false;
    const feed = await bed.repository.subscribe({
      onChange: async () => {
        await Promise.resolve();
        await feed.close();
        closed = true;
      },
    });
    await bed.create();
    await waitUntil(
      () => closed,
      () => 'close() inside onChange to resolve',
    );
  });

  it('halts a subscriber with onHalt at a change it failed on, keeping its position before it', async () => {
    const first = await bed.create();
    const start = await bed.repository.currentPosition();
    const handled: number[] = [];
    const halted: { error?: unknown; change?: ExternalTaskChange | undefined } = {};
    const feed = await bed.repository.subscribe({
      after: start - 1,
      onChange: async (change) => {
        await Promise.resolve();
        if (change.type === 'locked') throw new Error('handler failed');
        handled.push(change.position);
      },
      onHalt: (error, change) => Object.assign(halted, { error, change }),
    });
    await bed.claim('worker', 1);
    await bed.finish(first.id, 'worker');
    await waitUntil(
      () => halted.error !== undefined,
      () => 'the subscriber to be halted',
    );

    expect(handled).to.deep.equal([start]);
    expect(halted.change?.type).to.equal('locked');
    expect((halted.error as Error).message).to.equal('handler failed');
    expect(feed.position).to.equal(start);
    await someTurns();
    expect(handled).to.deep.equal([start]);

    const again: string[] = [];
    const resumed = await bed.repository.subscribe({
      after: feed.position,
      onChange: (change) => void again.push(change.type),
    });
    await waitUntil(
      () => again.length >= 2,
      () => 'the resumed subscriber to receive the failed change again',
    );
    expect(again).to.deep.equal(['locked', 'finished']);
    await Promise.all([feed.close(), resumed.close()]);
  });

  for (const [label, after] of [
    ['beyond the current position', 1],
    ['negative', -1],
    ['fractional', 0.5],
    ['NaN', Number.NaN],
    ['a string', '0'],
  ] as const) {
    it(`refuses a position that is ${label} with a BadRequestError naming 'after'`, async () => {
      await expectBadRequest(
        bed.repository.subscribe({ after: after as unknown as number, onChange: () => undefined }),
        'after',
      );
    });
  }

  it('hands every subscriber and the caller records of their own: a subscriber changing one changes nothing else', async () => {
    const meddler = await bed.record({
      onChange: (change) => {
        const task = change.task as { workerId?: string; state: string };
        tryToChange(() => (task.workerId = 'meddler'));
        tryToChange(() => (task.state = 'finished'));
      },
    });
    const witness = await bed.record();
    const task = await bed.create();

    const [claimed] = await bed.claim('worker', 1);
    await meddler.settled();
    await witness.settled();

    expect(claimed).to.include({ workerId: 'worker', state: 'pending' });
    for (const changes of [await bed.changes(), witness.changes]) {
      expect(changes.map((change) => change.task.workerId)).to.deep.equal([undefined, 'worker']);
      expect(changes.map((change) => change.task.state)).to.deep.equal(['pending', 'pending']);
    }
    expect(await bed.current(task.id)).to.include({ workerId: 'worker', state: 'pending' });
  });

  it('hands every subscriber and the caller a lock time of their own', async () => {
    const meddler = await bed.record({
      onChange: (change) => void change.task.lockExpirationTime?.setTime(0),
    });
    const witness = await bed.record();
    const task = await bed.create();

    const [claimed] = await bed.claim('worker', 1);
    await meddler.settled();
    await witness.settled();

    const expiry = START + 1000;
    expect(claimed?.lockExpirationTime?.getTime()).to.equal(expiry);
    expect((await bed.changesOf('locked'))[0]!.task.lockExpirationTime?.getTime()).to.equal(expiry);
    expect(witness.changes[1]!.task.lockExpirationTime?.getTime()).to.equal(expiry);
    expect((await bed.current(task.id)).lockExpirationTime?.getTime()).to.equal(expiry);
  });
}
