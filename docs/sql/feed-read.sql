-- Built by lib/postgres/sql/change-feed.ts (changeFeedStatements.read).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

SELECT feed.pruned_through::float8 AS pruned, c.position::float8 AS position, c.type, c.task
FROM "external_tasks".feed feed LEFT JOIN LATERAL (
  SELECT page.first_position + k - 1 AS position, page.types[k] AS type, page.tasks[k] AS task
  FROM (
    SELECT * FROM (
      SELECT first_position, types, tasks,
             sum(cardinality(types)) OVER (ORDER BY first_position) - cardinality(types) AS before
      FROM "external_tasks".changes
      WHERE first_position >= coalesce((SELECT max(first_position) FROM "external_tasks".changes
                                        WHERE first_position <= $1::bigint + 1), 0)
        AND last_position > $1::bigint
      ORDER BY first_position
      LIMIT $2
    ) rows WHERE before < $2
  ) page CROSS JOIN LATERAL generate_subscripts(page.types, 1) AS k
  WHERE page.first_position + k - 1 > $1::bigint
) c ON true
ORDER BY c.position;
