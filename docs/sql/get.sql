-- Built by lib/postgres/sql/read-tasks.ts (getTask).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

SELECT "external_tasks".task_record(t) AS record FROM "external_tasks".tasks t WHERE t.id = $1;
