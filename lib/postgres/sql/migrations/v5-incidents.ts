import type { Migration } from './migration.js';

/**
 * Version 5: an index of the incidents, in creation order, for the operator's `query({ incident: true })`.
 * Without it the query read every failed task (through `tasks_state`, row by row) to find the incidents
 * among them. Only incidents are in it, so claims and outcomes of other tasks never write it.
 */
export const incidents: Migration = {
  version: 5,
  description: 'index of the incidents',
  statements: ({ schema: s }) => [
    `CREATE INDEX tasks_incidents ON ${s}.tasks (sequence) WHERE state = 'failed' AND incident IS TRUE`,
  ],
};
