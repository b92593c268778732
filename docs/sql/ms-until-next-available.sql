-- Built by lib/postgres/sql/read-tasks.ts (msUntilNextAvailable).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

WITH clock AS (SELECT "external_tasks".clock($1) AS now),
earliest AS MATERIALIZED (
  SELECT (SELECT true FROM (
    -- No tenant list: the query as it is.
    SELECT * FROM (
          SELECT true AS ready FROM "external_tasks".pending t
          WHERE t.topic = topic.name AND t.available_at IS NULL AND coalesce(t.tenant_id = ANY($3::text[]), $3::text[] IS NULL) AND coalesce(t.process_model_id = ANY($4::text[]), $4::text[] IS NULL)
          ORDER BY t.priority DESC, t.sequence LIMIT 1
    ) everyone WHERE $3::text[] IS NULL
    UNION ALL
    -- A tenant list: the query once for each tenant of it, reading that tenant's own index entries.
    SELECT of_tenant.* FROM (SELECT DISTINCT tenant FROM unnest($3::text[]) AS listed(tenant)) scope
    CROSS JOIN LATERAL (
          SELECT true AS ready FROM "external_tasks".pending t
          WHERE t.topic = topic.name AND t.available_at IS NULL AND t.tenant_id = scope.tenant AND coalesce(t.tenant_id = ANY($3::text[]), $3::text[] IS NULL) AND coalesce(t.process_model_id = ANY($4::text[]), $4::text[] IS NULL)
          ORDER BY t.priority DESC, t.sequence LIMIT 1
    ) of_tenant
          ) found LIMIT 1) AS ready,
         (SELECT t.available_at FROM "external_tasks".pending t
          WHERE t.topic = topic.name AND t.available_at IS NOT NULL AND coalesce(t.tenant_id = ANY($3::text[]), $3::text[] IS NULL) AND coalesce(t.process_model_id = ANY($4::text[]), $4::text[] IS NULL)
          ORDER BY t.available_at LIMIT 1) AS at
  FROM unnest($2::text[]) AS topic(name)
)
SELECT CASE WHEN bool_or(ready) THEN 0
            WHEN min(at) IS NOT NULL THEN greatest(0, "external_tasks".ms(min(at)) - "external_tasks".ms((SELECT now FROM clock)))
       END::float8 AS ms
FROM earliest;
