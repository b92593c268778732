/**
 * Records the changes of a statement in the feed, with their positions (`record_changes`, see
 * `migrations.ts`, version 2): a scalar sub-select for the statement's final SELECT list, which answers
 * the last position given (NULL when there was no change). `rows` is a query of `type` and `task` (and
 * whatever `order` reads); `order` orders the changes as the statement made them; `retention` is how many
 * of the latest positions the feed keeps.
 *
 * It runs after the statement's task rows are written (it reads what they return), so the feed's row is
 * the last lock the statement takes, and the one it holds the shortest time.
 */
export function recordChanges(schema: string, retention: number, rows: string, order: string): string {
  return (
    `(SELECT ${schema}.record_changes(array_agg(type ORDER BY ${order}), array_agg(task ORDER BY ${order}), ` +
    `${retention}::bigint) FROM (${rows}) AS change)`
  );
}
