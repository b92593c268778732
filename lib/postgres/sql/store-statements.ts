import { claimTasks } from './claim-tasks.js';
import { createTasks } from './create-tasks.js';
import { engineWrites } from './engine-writes.js';
import { migrateStatements } from './migrate.js';
import type { SqlNames } from './names.js';
import { pruneFinalTasks } from './prune-final-tasks.js';
import { countByTopic, getTask, msUntilNextAvailable } from './read-tasks.js';
import { cancelTasks, heldTaskWrites, readTasks, setRetries } from './write-task.js';

/** The statements of a store's operations in one schema, built once when the store is made. */
export function storeStatements(names: SqlNames) {
  return {
    create: createTasks(names),
    claim: claimTasks(names),
    held: heldTaskWrites(names),
    setRetries: setRetries(names),
    engine: engineWrites(names),
    read: readTasks(names),
    cancel: {
      externalTaskId: cancelTasks(names, 'id'),
      flowNodeInstanceId: cancelTasks(names, 'flow_node_instance_id'),
      processInstanceId: cancelTasks(names, 'process_instance_id'),
    },
    get: getTask(names),
    count: countByTopic(names),
    nextAvailable: msUntilNextAvailable(names),
    pruneFinal: pruneFinalTasks(names),
    migrate: migrateStatements(names),
  };
}

/** What {@link storeStatements} builds. */
export type StoreStatements = ReturnType<typeof storeStatements>;
