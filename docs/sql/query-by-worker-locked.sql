-- Built by lib/postgres/sql/query-filter.ts (queryFilter) and read-tasks.ts (queryTasks), for query({"workerId":"worker-1","locked":true}).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

SELECT (SELECT count(*) FROM "external_tasks".tasks t WHERE t.worker_id = $1 AND t.id = ANY(ARRAY(SELECT id FROM "external_tasks".pending WHERE worker_id = $1 UNION ALL SELECT id FROM "external_tasks".ended WHERE worker_id = $1)) AND t.state = 'pending' AND t.lock_expires_at > "external_tasks".clock($2::bigint) AND t.id = ANY(ARRAY(SELECT id FROM "external_tasks".pending WHERE worker_id IS NOT NULL AND available_at > "external_tasks".clock($2::bigint))))::float8 AS total,
       coalesce((SELECT json_agg(page.record ORDER BY page.sequence) FROM (
         SELECT t.sequence, "external_tasks".task_record(t) AS record FROM "external_tasks".tasks t WHERE t.worker_id = $1 AND t.id = ANY(ARRAY(SELECT id FROM "external_tasks".pending WHERE worker_id = $1 UNION ALL SELECT id FROM "external_tasks".ended WHERE worker_id = $1)) AND t.state = 'pending' AND t.lock_expires_at > "external_tasks".clock($2::bigint) AND t.id = ANY(ARRAY(SELECT id FROM "external_tasks".pending WHERE worker_id IS NOT NULL AND available_at > "external_tasks".clock($2::bigint)))
         ORDER BY t.sequence LIMIT $3 OFFSET $4
       ) AS page), '[]'::json) AS tasks;
