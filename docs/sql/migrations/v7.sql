-- Built by lib/postgres/sql/migrations/ (version 7: index of the ready tasks per tenant in hand-out order).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

CREATE INDEX tasks_ready_tenant ON "external_tasks".tasks (topic, tenant_id, priority DESC, sequence)
      WHERE state = 'pending' AND available_at IS NULL AND tenant_id IS NOT NULL;
