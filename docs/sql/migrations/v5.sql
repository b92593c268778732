-- Built by lib/postgres/sql/migrations/ (version 5: index of the incidents).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

CREATE INDEX tasks_incidents ON "external_tasks".tasks (sequence) WHERE state = 'failed' AND incident IS TRUE;
