-- Built by lib/postgres/sql/query-filter.ts (queryFilter) and read-tasks.ts (queryTasks), for query({"state":["failed","cancelled"],"limit":100}).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

SELECT (SELECT count(*) FROM "external_tasks".tasks t WHERE t.state = ANY($1::text[]) AND t.id = ANY(ARRAY(SELECT id FROM "external_tasks".ended WHERE state = ANY($1::text[]) UNION ALL SELECT id FROM "external_tasks".pending WHERE 'pending' = ANY($1::text[]))))::float8 AS total,
       coalesce((SELECT json_agg(page.record ORDER BY page.sequence) FROM (
         SELECT t.sequence, "external_tasks".task_record(t) AS record FROM "external_tasks".tasks t WHERE t.state = ANY($1::text[]) AND t.id = ANY(ARRAY(SELECT id FROM "external_tasks".ended WHERE state = ANY($1::text[]) UNION ALL SELECT id FROM "external_tasks".pending WHERE 'pending' = ANY($1::text[])))
         ORDER BY t.sequence LIMIT $2 OFFSET $3
       ) AS page), '[]'::json) AS tasks;
