import { describeAvailabilityHints } from './availability-hints.js';
import { describeCancel } from './cancel.js';
import { describeChangeFeed } from './change-feed.js';
import { describeClaim } from './claim.js';
import { describeConcurrency } from './concurrency.js';
import { describeConsumerLeases } from './consumer-leases.js';
import { describeCounts } from './counts.js';
import { describeCreate } from './create.js';
import { describeCreateMany } from './create-many.js';
import { describeEdgeInputs } from './edge-inputs.js';
import { describeEngineControls } from './engine-controls.js';
import { ContractBed } from './contract-bed.js';
import { describeIdempotentCreate } from './idempotent-create.js';
import { describeNextAvailable } from './next-available.js';
import { describeOperatorQueries } from './operator-queries.js';
import { describeQuery } from './query.js';
import { describeRetries } from './retries.js';
import { describeScope } from './scope.js';
import { describeSnapshots } from './snapshots.js';
import type { MakeRepositoryTestbed } from './testbed.js';
import { describeWrites } from './writes.js';

export type {
  MakeRepositoryTestbed,
  RepositoryContractContext,
  RepositoryContractTestbed,
} from './testbed.js';

/**
 * The behaviour every `ExternalTaskRepository` must show: the contract suite, run with mocha and
 * chai. Call it at the top level of a spec file (or inside a `describe`) with a factory that builds a
 * fresh, empty store for each test and reads "now" from the clock it is given.
 *
 * Before each test the suite makes a {@link ManualClock} at 2030-01-01T00:00:00Z, calls `makeTestbed`
 * with it, and subscribes a recorder to the store's change feed; after each test it closes what it
 * opened and calls the test bed's `close`. Time moves only through that clock (forwards, and backwards
 * where a case says so). The suite never relies on a store delivering changes or hints synchronously:
 * it waits (boundedly) until the feed has reached `currentPosition()` before it asserts on changes.
 *
 * @example
 * ```ts
 * import { describeRepositoryContract } from 'external-task-api/testing';
 *
 * describeRepositoryContract('MyExternalTaskRepository', async ({ clock }) => {
 *   const repository = await MyExternalTaskRepository.connect({ clock, schema: freshSchema() });
 *   return { repository, close: () => repository.dropSchemaAndClose() };
 * });
 * ```
 */
export function describeRepositoryContract(name: string, makeTestbed: MakeRepositoryTestbed): void {
  describe(name, () => {
    const bed = new ContractBed();

    beforeEach(async () => {
      await bed.open(makeTestbed);
    });

    afterEach(async () => {
      await bed.close();
    });

    describeCreate(bed);
    describeCreateMany(bed);
    describeSnapshots(bed);
    describeIdempotentCreate(bed);
    describeClaim(bed);
    describeWrites(bed);
    describeRetries(bed);
    describeEngineControls(bed);
    describeNextAvailable(bed);
    describeCancel(bed);
    describeQuery(bed);
    describeOperatorQueries(bed);
    describeCounts(bed);
    describeScope(bed);
    describeChangeFeed(bed);
    describeAvailabilityHints(bed);
    describeConsumerLeases(bed);
    describeConcurrency(bed);
    describeEdgeInputs(bed);
  });
}
