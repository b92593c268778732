import type { Migration } from './migration.js';
import { taskTables } from './v1-task-tables.js';
import { positionsAtRecording } from './v2-positions-at-recording.js';
import { engineControls } from './v3-engine-controls.js';
import { hintsInPlpgsql } from './v4-hints-in-plpgsql.js';
import { incidents } from './v5-incidents.js';
import { dueOrder } from './v6-due-order.js';
import { tenantReady } from './v7-tenant-ready.js';
import { pendingAndEnded } from './v8-pending-and-ended.js';
import { changeRowsPerStatement } from './v9-change-rows-per-statement.js';
import { consumerLeases } from './v10-consumer-leases.js';

export type { Migration } from './migration.js';

/** Every migration, oldest first. A new version is a new file appended here, never an edit of an old one. */
export const migrations: readonly Migration[] = [
  taskTables,
  positionsAtRecording,
  engineControls,
  hintsInPlpgsql,
  incidents,
  dueOrder,
  tenantReady,
  pendingAndEnded,
  changeRowsPerStatement,
  consumerLeases,
];
