-- Built by lib/postgres/sql/migrations/ (version 6: index of the waiting tasks in hand-out order).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

CREATE INDEX tasks_waiting_order ON "external_tasks".tasks (topic, priority DESC, sequence)
      WHERE state = 'pending' AND (lock_expires_at IS NOT NULL OR retry_at IS NOT NULL);
