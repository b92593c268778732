import type { SqlNames } from './names.js';

/**
 * The statements that read the change feed. Positions are given by the statements that record changes
 * (`record-changes.ts`), in commit order; readers read positions only.
 */
export function changeFeedStatements({ schema: s }: SqlNames) {
  return {
    /** The feed's ends: `sequenced` (the current position) and `pruned` (the oldest resumable). */
    ends: `SELECT sequenced_through::float8 AS sequenced, pruned_through::float8 AS pruned FROM ${s}.feed`,
    /**
     * Up to $2 changes after the position $1, in order, with the oldest resumable position (`pruned`):
     * a reader behind it lost changes. No change: one row with NULL `position`.
     */
    read: `
SELECT feed.pruned_through::float8 AS pruned, c.position::float8 AS position, c.type, c.task
FROM ${s}.feed feed LEFT JOIN LATERAL (
  SELECT position, type, task FROM ${s}.changes WHERE position > $1::bigint ORDER BY position LIMIT $2
) c ON true
ORDER BY c.position`,
  };
}
