import { expect } from 'chai';
import { ManualClock } from '../../lib/clock/index.js';
import {
  BadRequestError,
  ChangeFeedRetentionError,
  ExternalTaskApi,
  InMemoryExternalTaskRepository,
  type ChangeFeedResync,
  type ConsumeOutcomesOptions,
  type ExternalTaskRepository,
} from '../../lib/index.js';
import { someTurns } from '../../lib/testing/contract/waiting.js';
import { durableStores } from '../support/durable-stores.js';
import { newTask, rejectionOf } from '../support/fixtures.js';
import { Cluster, hearing } from '../support/replicas.js';

const START = Date.UTC(2030, 0, 1);
const LEASE = 30_000;

describe('ExternalTaskApi.consumeOutcomes({ consumer }): a named consumer whose position the store keeps', () => {
  for (const store of durableStores) {
    describe(`on ${store.name}`, function () {
      this.timeout(60_000);
      let cluster: Cluster;
      before(async function () {
        await store.prepare(this);
      });
      beforeEach(() => {
        cluster = new Cluster(store, new ManualClock(START));
      });
      afterEach(async () => {
        await cluster.close();
        await store.cleanup();
      });

      it('starts a name from the oldest retained change: outcomes from before its first start are all heard', async () => {
        const finished = await cluster.finishTasks(5);
        const engine = await cluster.replica();
        await hearing(engine, 5);
        expect(engine.heard).to.deep.equal(finished);
        expect(engine.consumer.holdsLease).to.equal(true);
      });

      it('of two replicas of one name, only the holder hears outcomes; the other waits', async () => {
        const a = await cluster.replica();
        const b = await cluster.replica();
        expect([a.consumer.holdsLease, b.consumer.holdsLease]).to.deep.equal([true, false]);
        const first = await cluster.finishTasks(5);
        await hearing(a, 5);
        await cluster.advance(3 * LEASE, [a, b]); // renewals and asks, many times over
        const later = await cluster.finishTasks(3);
        await hearing(a, 8);
        await someTurns();
        expect(a.heard).to.deep.equal([...first, ...later]);
        expect(b.heard).to.deep.equal([]);
        expect([a.consumer.holdsLease, b.consumer.holdsLease]).to.deep.equal([true, false]);
      });

      it('a holder that closes releases at once: another replica takes over at its next ask, after the stored position', async () => {
        const a = await cluster.replica();
        const b = await cluster.replica();
        const first = await cluster.finishTasks(4);
        await hearing(a, 4);
        await a.consumer.close();
        const whileNobody = await cluster.finishTasks(3);
        const waited = await cluster.advanceUntil(() => b.consumer.holdsLease, [a, b]);
        expect(waited, 'a third of the lease at most, not the lease').to.be.at.most(LEASE / 3);
        await hearing(b, 3);
        await someTurns();
        expect(a.heard).to.deep.equal(first);
        expect(b.heard, 'none lost, none twice').to.deep.equal(whileNobody);
      });

      it('a holder that dies is taken over once its lease ran out, from the stored position: nothing lost, only the unstored outcomes again', async () => {
        const a = await cluster.replica();
        const b = await cluster.replica();
        const stored = await cluster.finishTasks(6);
        await hearing(a, 6);
        await cluster.advance(1000, [a, b]); // commitInterval: the position of the 6th is written
        const lastWrite = cluster.clock.now();
        expect(a.link.storedPositions.at(-1)).to.be.at.least(a.positions[5]!);
        const unstored = await cluster.finishTasks(3);
        await hearing(a, 9);
        a.link.kill(); // no release, no renewal, nothing more heard
        const afterDeath = await cluster.finishTasks(1);

        await cluster.advanceUntil(() => b.consumer.holdsLease, [a, b]);
        expect(cluster.clock.now(), 'not before the lease ran out').to.be.at.least(lastWrite + LEASE);
        expect(cluster.clock.now(), 'soon after').to.be.at.most(lastWrite + LEASE + LEASE / 3);
        await hearing(b, 4);
        await someTurns();
        expect(a.heard).to.deep.equal([...stored, ...unstored]);
        expect(b.heard, 'again what was not stored, then the rest').to.deep.equal([
          ...unstored,
          ...afterDeath,
        ]);
        const all = new Set([...a.heard, ...b.heard]);
        expect(
          [...stored, ...unstored, ...afterDeath].filter((id) => !all.has(id)),
          'lost',
        ).to.deep.equal([]);
      });

      it('stores a position only once its onOutcome resolved, never ahead of what was handled', async () => {
        let release: () => void = () => undefined;
        const gate = new Promise<void>((resolve) => (release = resolve));
        const a = await cluster.replica({
          onOutcome: async ({ task, position }) => {
            if (a.heard.length === 2) await gate;
            a.heard.push(task.id);
            a.positions.push(position);
          },
        });
        const b = await cluster.replica();
        const finished = await cluster.finishTasks(4);
        await hearing(a, 2);
        await cluster.advance(5000, [a, b]);
        expect(a.link.storedPositions.length, 'written meanwhile').to.be.greaterThan(0);
        // Only the third and fourth outcomes came after the second: the second is as far as it may go.
        expect(Math.max(...a.link.storedPositions), 'the second, not the third still in onOutcome').to.equal(
          a.positions[1],
        );
        a.link.kill();
        release();
        await cluster.advanceUntil(() => b.consumer.holdsLease, [a, b]);
        await hearing(b, 2);
        expect(b.heard, 'the third and fourth: the third was never stored as handled').to.deep.equal(
          finished.slice(2),
        );
      });

      it('a holder whose renewals fail stops handing outcomes over once its lease may have run out', async () => {
        const a = await cluster.replica();
        const b = await cluster.replica();
        a.link.partitioned = true;
        await cluster.advanceUntil(() => !a.consumer.holdsLease && b.consumer.holdsLease, [a, b]);
        const later = await cluster.finishTasks(2);
        await hearing(b, 2);
        a.link.partitioned = false;
        await cluster.advance(LEASE, [a, b]);
        await someTurns();
        expect(a.heard).to.deep.equal([]);
        expect(b.heard).to.deep.equal(later);
        expect([a.consumer.holdsLease, b.consumer.holdsLease]).to.deep.equal([false, true]);
      });

      it('a holder paused past its lease finds it lost at its next renewal and stops', async () => {
        const paused = new ManualClock(START); // the holder's own timers, which do not run
        const a = await cluster.replica({}, paused);
        const b = await cluster.replica();
        await cluster.advanceUntil(() => b.consumer.holdsLease, [a, b]);
        await paused.advanceAsync(LEASE / 3); // it wakes up and renews
        await cluster.settled([a, b]);
        expect(a.consumer.holdsLease).to.equal(false);
        const later = await cluster.finishTasks(2);
        await hearing(b, 2);
        await someTurns();
        expect(a.heard).to.deep.equal([]);
        expect(b.heard).to.deep.equal(later);
      });

      it('api.close() closes its named consumers, releasing their leases', async () => {
        const a = await cluster.replica();
        const b = await cluster.replica();
        await a.api.close();
        expect(a.consumer.holdsLease).to.equal(false);
        await cluster.advanceUntil(() => b.consumer.holdsLease, [a, b], LEASE / 3);
      });
    });
  }

  describe('arguments', () => {
    const onOutcome = (): void => undefined;

    it('refuses after with consumer, and a bad consumer, leaseDuration or commitInterval, naming it', async () => {
      const api = new ExternalTaskApi({ repository: new InMemoryExternalTaskRepository() });
      const refusals: [string, Record<string, unknown>][] = [
        ['after', { consumer: 'engine', after: 'oldest', onOutcome }],
        ['after', { consumer: 'engine', after: 3, onOutcome }],
        ['consumer', { consumer: '', onOutcome }],
        ['consumer', { consumer: 'c'.repeat(256), onOutcome }],
        ['consumer', { consumer: 7, onOutcome }],
        ['onOutcome', { consumer: 'engine' }],
        ['leaseDuration', { consumer: 'engine', leaseDuration: 0, onOutcome }],
        ['leaseDuration', { consumer: 'engine', leaseDuration: 2 ** 31, onOutcome }],
        ['commitInterval', { consumer: 'engine', commitInterval: -1, onOutcome }],
        ['commitInterval', { consumer: 'engine', commitInterval: 0.5, onOutcome }],
      ];
      try {
        for (const [argument, options] of refusals) {
          const error = await rejectionOf(api.consumeOutcomes(options as unknown as ConsumeOutcomesOptions));
          expect(error, JSON.stringify(options)).to.be.instanceOf(BadRequestError);
          expect((error as BadRequestError).argument, JSON.stringify(options)).to.equal(argument);
        }
      } finally {
        await api.close();
      }
    });

    it('refuses consumer on a store without consumerLeases, naming consumer; after still works there', async () => {
      const { consumerLeases: _leases, ...withoutLeases } = bound(new InMemoryExternalTaskRepository());
      const api = new ExternalTaskApi({ repository: withoutLeases });
      try {
        const error = await rejectionOf(api.consumeOutcomes({ consumer: 'engine', onOutcome }));
        expect(error).to.be.instanceOf(BadRequestError);
        expect((error as BadRequestError).argument).to.equal('consumer');
        await (await api.consumeOutcomes({ after: 'now', onOutcome })).close();
      } finally {
        await api.close();
      }
    });

    it('refuses, at construction, a repository with only some of the consumerLeases operations', () => {
      const repository = new InMemoryExternalTaskRepository();
      const leases = repository.consumerLeases;
      const partial = { acquire: leases.acquire.bind(leases), renew: leases.renew.bind(leases) };
      expect(
        () => new ExternalTaskApi({ repository: { ...bound(repository), consumerLeases: partial as never } }),
      )
        .to.throw(TypeError)
        .with.property('message')
        .that.includes('consumerLeases.release');
    });
  });

  describe('a stored position the store no longer retains', () => {
    async function behindRetention(): Promise<{ api: ExternalTaskApi; repository: ExternalTaskRepository }> {
      const clock = new ManualClock(START);
      const repository = new InMemoryExternalTaskRepository({ clock, changeRetention: 3 });
      const api = new ExternalTaskApi({ repository, clock });
      await repository.consumerLeases.acquire({ consumer: 'engine', holder: 'before', leaseDuration: LEASE });
      await repository.consumerLeases.release({ consumer: 'engine', holder: 'before', position: 1 });
      for (let i = 0; i < 4; i++)
        await repository.cancel({ externalTaskId: (await repository.create(newTask())).id });
      return { api, repository };
    }

    it('without onResync: consumeOutcomes rejects with ChangeFeedRetentionError and leaves the lease free', async () => {
      const { api, repository } = await behindRetention();
      try {
        const error = await rejectionOf(
          api.consumeOutcomes({ consumer: 'engine', onOutcome: () => undefined }),
        );
        expect(error).to.be.instanceOf(ChangeFeedRetentionError);
        const next = await repository.consumerLeases!.acquire({
          consumer: 'engine',
          holder: 'x',
          leaseDuration: 1,
        });
        expect(next).to.deep.equal({ status: 'acquired', position: 1 });
      } finally {
        await api.close();
      }
    });

    it('with onResync: it is told of the gap and goes on after it', async () => {
      const { api, repository } = await behindRetention();
      const resyncs: ChangeFeedResync[] = [];
      const heard: number[] = [];
      try {
        await api.consumeOutcomes({
          consumer: 'engine',
          onOutcome: ({ position }) => void heard.push(position),
          onResync: (resync) => void resyncs.push(resync),
        });
        const current = await repository.currentPosition();
        expect(resyncs).to.deep.equal([{ lastDelivered: 1, resumedAfter: current - 3 }]);
        expect(heard).to.deep.equal([current - 2, current]);
      } finally {
        await api.close();
      }
    });
  });
});

/** The repository's methods bound to it, as an object of their own (what a wrapping store would be). */
function bound(repository: InMemoryExternalTaskRepository): ExternalTaskRepository & {
  consumerLeases: InMemoryExternalTaskRepository['consumerLeases'];
} {
  const methods = Object.getOwnPropertyNames(Object.getPrototypeOf(repository)).filter(
    (name) => name !== 'constructor',
  ) as (keyof ExternalTaskRepository)[];
  const copy = Object.fromEntries(
    methods.map((name) => [name, (repository[name] as (...args: unknown[]) => unknown).bind(repository)]),
  );
  return { ...copy, consumerLeases: repository.consumerLeases } as never;
}
