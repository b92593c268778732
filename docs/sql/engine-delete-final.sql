-- Built by lib/postgres/sql/engine-writes.ts (engineWrites.deleteFinal).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

WITH doomed AS (
  SELECT id, sequence FROM "external_tasks".tasks WHERE process_instance_id = $1 AND state <> 'pending' ORDER BY id FOR UPDATE
),
deleted AS (DELETE FROM "external_tasks".tasks t WHERE t.id = ANY(ARRAY(SELECT id FROM doomed)) RETURNING 1),
forgotten AS (
  DELETE FROM "external_tasks".ended e
  WHERE e.state = ANY('{finished,failed,cancelled}'::text[]) AND e.sequence = ANY(ARRAY(SELECT sequence FROM doomed))
)
SELECT count(*)::integer AS count FROM deleted;
