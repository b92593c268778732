-- Built by lib/postgres/sql/prune-final-tasks.ts (pruneFinalTasks).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

WITH expired AS (
  SELECT t.id, t.sequence FROM "external_tasks".tasks t
  WHERE t.id = ANY(ARRAY(
      SELECT e.id FROM "external_tasks".ended e
      WHERE e.finished_at < "external_tasks".clock($1) - $2::bigint * interval '1 millisecond'
      ORDER BY e.finished_at LIMIT 1000))
    AND t.state <> 'pending' AND t.finished_at < "external_tasks".clock($1) - $2::bigint * interval '1 millisecond'
  FOR UPDATE SKIP LOCKED
),
deleted AS (DELETE FROM "external_tasks".tasks t WHERE t.id = ANY(ARRAY(SELECT id FROM expired)) RETURNING 1),
forgotten AS (
  DELETE FROM "external_tasks".ended e
  WHERE e.state = ANY('{finished,failed,cancelled}'::text[]) AND e.sequence = ANY(ARRAY(SELECT sequence FROM expired))
)
SELECT count(*)::integer AS count FROM deleted;
