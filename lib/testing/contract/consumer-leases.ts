import { expect } from 'chai';
import type { ConsumerLeases } from '../../repository/consumer-leases.js';
import type { ContractBed } from './contract-bed.js';
import { expectBadRequest } from './expectations.js';

/** The lease duration of the cases, in ms. */
const LEASE = 30_000;

/**
 * Named consumers' positions and leases (`repository.consumerLeases`), which `consumeOutcomes({ consumer
 * })` builds on. The group is optional: on a store without it these cases are skipped (pending), and
 * the facade refuses `consumer`.
 */
export function describeConsumerLeases(bed: ContractBed): void {
  describe('named consumers: positions and leases', () => {
    let leases: ConsumerLeases;
    beforeEach(function () {
      const found = bed.repository.consumerLeases;
      if (!found) return this.skip();
      leases = found;
    });

    const acquire = (holder: string, consumer = 'engine', leaseDuration = LEASE) =>
      leases.acquire({ consumer, holder, leaseDuration });
    const renew = (holder: string, position?: number, consumer = 'engine') =>
      leases.renew({ consumer, holder, leaseDuration: LEASE, ...(position !== undefined && { position }) });
    const release = (holder: string, position?: number, consumer = 'engine') =>
      leases.release({ consumer, holder, ...(position !== undefined && { position }) });

    it("gives a name's first acquisition the lease and no position; the holder asking again keeps it", async () => {
      expect(await acquire('a')).to.deep.equal({ status: 'acquired', position: undefined });
      expect(await acquire('a')).to.deep.equal({ status: 'acquired', position: undefined });
    });

    it('refuses another holder while the lease runs, saying who holds it and for how long by the store’s clock', async () => {
      await acquire('a');
      bed.clock.advance(10_000);
      expect(await acquire('b')).to.deep.equal({ status: 'held', holder: 'a', msUntilExpiry: 20_000 });
      bed.clock.advance(LEASE - 10_000 - 1);
      expect(await acquire('b')).to.deep.equal({ status: 'held', holder: 'a', msUntilExpiry: 1 });
    });

    it('lets another holder take a lease that ran out, with the stored position; the old holder has lost it', async () => {
      await acquire('a');
      expect(await renew('a', 7)).to.deep.equal({ status: 'ok' });
      bed.clock.advance(LEASE);
      expect(await acquire('b')).to.deep.equal({ status: 'acquired', position: 7 });
      expect(await renew('a', 9)).to.deep.equal({ status: 'lost' });
      expect(await release('a', 9)).to.deep.equal({ status: 'lost' });
      expect(await acquire('c')).to.deep.include({ status: 'held', holder: 'b' });
      await release('b');
      expect(await acquire('c')).to.deep.equal({ status: 'acquired', position: 7 });
    });

    it('renews a lease from now and stores the position, which never moves back', async () => {
      await acquire('a');
      bed.clock.advance(20_000);
      expect(await renew('a', 5)).to.deep.equal({ status: 'ok' });
      bed.clock.advance(20_000);
      expect(await acquire('b')).to.deep.equal({ status: 'held', holder: 'a', msUntilExpiry: 10_000 });
      expect(await renew('a', 3)).to.deep.equal({ status: 'ok' });
      expect(await renew('a')).to.deep.equal({ status: 'ok' });
      await release('a');
      expect(await acquire('b')).to.deep.equal({ status: 'acquired', position: 5 });
    });

    it('lets the holder renew a lease that ran out while nobody took it over', async () => {
      await acquire('a');
      bed.clock.advance(LEASE + 1000);
      expect(await renew('a', 2)).to.deep.equal({ status: 'ok' });
      expect(await acquire('b')).to.deep.equal({ status: 'held', holder: 'a', msUntilExpiry: LEASE });
    });

    it('frees a released lease at once, keeping the position given; only the holder releases', async () => {
      await acquire('a');
      expect(await release('b', 4)).to.deep.equal({ status: 'lost' });
      expect(await acquire('c')).to.deep.include({ status: 'held', holder: 'a' });
      expect(await release('a', 9)).to.deep.equal({ status: 'ok' });
      expect(await release('a')).to.deep.equal({ status: 'lost' });
      expect(await renew('a')).to.deep.equal({ status: 'lost' });
      expect(await acquire('b')).to.deep.equal({ status: 'acquired', position: 9 });
    });

    it('keeps each name apart', async () => {
      expect(await acquire('a', 'engine')).to.deep.include({ status: 'acquired' });
      expect(await acquire('b', 'audit')).to.deep.include({ status: 'acquired' });
      await renew('a', 4, 'engine');
      expect(await renew('a', 6, 'audit')).to.deep.equal({ status: 'lost' });
      await release('a', undefined, 'engine');
      await release('b', undefined, 'audit');
      expect(await acquire('c', 'audit')).to.deep.equal({ status: 'acquired', position: undefined });
      expect(await acquire('c', 'engine')).to.deep.equal({ status: 'acquired', position: 4 });
    });

    it('keeps positions up to 2^53 − 1 exactly', async () => {
      await acquire('a');
      await release('a', Number.MAX_SAFE_INTEGER);
      expect(await acquire('b')).to.deep.equal({ status: 'acquired', position: Number.MAX_SAFE_INTEGER });
    });

    for (const [label, setUp] of [
      ['a new name', () => Promise.resolve()],
      ['a lease that ran out', () => acquire('old').then(() => bed.clock.advance(LEASE))],
      ['a released lease', () => acquire('old').then(() => release('old', 3))],
    ] as const) {
      it(`gives ${label} to exactly one of racing acquisitions`, async () => {
        await setUp();
        const holders = Array.from({ length: 8 }, (_, index) => `racer-${index}`);
        const answers = await Promise.all(holders.map((holder) => acquire(holder)));
        const winners = holders.filter((_, index) => answers[index]!.status === 'acquired');
        expect(winners).to.have.length(1);
        for (const answer of answers) {
          if (answer.status === 'held') expect(answer.holder).to.equal(winners[0]);
        }
      });
    }

    it('records no change and sends no hint', async () => {
      const work = async (): Promise<void> => {
        await acquire('a');
        await renew('a', 1);
        await acquire('b');
        await release('a', 2);
      };
      await bed.expectNoChange(work);
      expect(await bed.hintsOf(work)).to.deep.equal([]);
    });

    it('refuses bad requests naming the argument, and changes nothing', async () => {
      await acquire('a');
      await renew('a', 3);
      const request = { consumer: 'engine', holder: 'a', leaseDuration: LEASE };
      const refusals: [string, () => Promise<unknown>][] = [
        ['request', () => leases.acquire(null as never)],
        ['request', () => leases.release('engine' as never)],
        ['consumer', () => leases.acquire({ ...request, consumer: '' })],
        ['consumer', () => leases.renew({ ...request, consumer: 'a\u0000b' })],
        ['consumer', () => leases.release({ ...request, consumer: 'c'.repeat(256) })],
        ['holder', () => leases.acquire({ ...request, holder: 7 as never })],
        ['holder', () => leases.release({ consumer: 'engine' } as never)],
        ['leaseDuration', () => leases.acquire({ ...request, leaseDuration: 0 })],
        ['leaseDuration', () => leases.renew({ ...request, leaseDuration: 1.5 })],
        ['leaseDuration', () => leases.acquire({ ...request, leaseDuration: 2 ** 31 })],
        ['leaseDuration', () => leases.renew({ consumer: 'engine', holder: 'a' } as never)],
        ['position', () => leases.renew({ ...request, position: -1 })],
        ['position', () => leases.renew({ ...request, position: 2.5 })],
        ['position', () => leases.release({ ...request, position: '9' as never })],
        ['position', () => leases.release({ ...request, position: 2 ** 53 })],
      ];
      for (const [argument, call] of refusals) await expectBadRequest(call(), argument);
      expect(await acquire('b')).to.deep.include({ status: 'held', holder: 'a', msUntilExpiry: LEASE });
      await release('a');
      expect(await acquire('b')).to.deep.equal({ status: 'acquired', position: 3 });
    });
  });
}
