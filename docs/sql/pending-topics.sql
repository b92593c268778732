-- Built by lib/postgres/sql/pending-topics.ts (pendingTopics).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

WITH RECURSIVE ready(topic) AS (
  SELECT min(t.topic) FROM "external_tasks".pending t WHERE t.available_at IS NULL
  UNION ALL
  SELECT (SELECT min(t.topic) FROM "external_tasks".pending t
          WHERE t.available_at IS NULL AND t.topic > ready.topic)
  FROM ready WHERE ready.topic IS NOT NULL
),
waiting(topic) AS (
  SELECT min(t.topic) FROM "external_tasks".pending t WHERE t.available_at IS NOT NULL
  UNION ALL
  SELECT (SELECT min(t.topic) FROM "external_tasks".pending t
          WHERE t.available_at IS NOT NULL AND t.topic > waiting.topic)
  FROM waiting WHERE waiting.topic IS NOT NULL
)
SELECT topic FROM ready WHERE topic IS NOT NULL
UNION
SELECT topic FROM waiting WHERE topic IS NOT NULL;
