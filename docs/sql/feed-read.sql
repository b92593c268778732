-- Built by lib/postgres/sql/change-feed.ts (changeFeedStatements.read).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

SELECT feed.pruned_through::float8 AS pruned, c.position::float8 AS position, c.type, c.task
FROM "external_tasks".feed feed LEFT JOIN LATERAL (
  SELECT position, type, task FROM "external_tasks".changes WHERE position > $1::bigint ORDER BY position LIMIT $2
) c ON true
ORDER BY c.position;
