import { claimTasks } from './claim-tasks.js';
import { consumerLeaseStatements } from './consumer-leases.js';
import { createTasks } from './create-tasks.js';
import { engineWrites } from './engine-writes.js';
import { migrateStatements } from './migrate.js';
import type { EndedRows } from './ending-writes.js';
import type { SqlNames } from './names.js';
import { pruneFinalTasks } from './prune-final-tasks.js';
import { countByTopic, getTask, msUntilNextAvailable } from './read-tasks.js';
import { cancelTasks, heldTaskWrites, setRetries } from './write-task.js';

/**
 * The statements of a store's operations in one schema, built once when the store is made.
 * `changeRetention`: how many of the latest feed positions the statements that record changes keep;
 * `ended`: whether the row of a task that ends stays (for the final-task retention) or goes at once
 * (`finalTaskRetention: 0`).
 */
export function storeStatements(names: SqlNames, changeRetention: number, ended: EndedRows = 'kept') {
  return {
    create: createTasks(names, changeRetention),
    claim: claimTasks(names, changeRetention),
    held: heldTaskWrites(names, changeRetention, ended),
    setRetries: setRetries(names, changeRetention),
    engine: engineWrites(names, changeRetention),
    cancel: {
      externalTaskId: cancelTasks(names, changeRetention, 'id', ended),
      flowNodeInstanceId: cancelTasks(names, changeRetention, 'flow_node_instance_id', ended),
      processInstanceId: cancelTasks(names, changeRetention, 'process_instance_id', ended),
    },
    get: getTask(names),
    count: countByTopic(names),
    nextAvailable: msUntilNextAvailable(names),
    pruneFinal: pruneFinalTasks(names, ended),
    migrate: migrateStatements(names),
    consumerLeases: consumerLeaseStatements(names),
  };
}

/** What {@link storeStatements} builds. */
export type StoreStatements = ReturnType<typeof storeStatements>;
