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
     * The changes after the position $1, in order, with the oldest resumable position (`pruned`): a
     * reader behind it lost changes. No change: one row with NULL `position`. The feed keeps one row per
     * statement (schema version 9), so a page holds whole rows: the rows from the one holding the position
     * after $1 on, as long as the changes before a row number fewer than $2 — at least $2 changes when
     * there are that many, and at most $2 plus one statement's.
     */
    read: `
SELECT feed.pruned_through::float8 AS pruned, c.position::float8 AS position, c.type, c.task
FROM ${s}.feed feed LEFT JOIN LATERAL (
  SELECT page.first_position + k - 1 AS position, page.types[k] AS type, page.tasks[k] AS task
  FROM (
    SELECT * FROM (
      SELECT first_position, types, tasks,
             sum(cardinality(types)) OVER (ORDER BY first_position) - cardinality(types) AS before
      FROM ${s}.changes
      WHERE first_position >= coalesce((SELECT max(first_position) FROM ${s}.changes
                                        WHERE first_position <= $1::bigint + 1), 0)
        AND last_position > $1::bigint
      ORDER BY first_position
      LIMIT $2
    ) rows WHERE before < $2
  ) page CROSS JOIN LATERAL generate_subscripts(page.types, 1) AS k
  WHERE page.first_position + k - 1 > $1::bigint
) c ON true
ORDER BY c.position`,
  };
}
