-- Built by lib/postgres/sql/migrations/ (version 4: availability hints sent by a PL/pgSQL function).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

CREATE OR REPLACE FUNCTION "external_tasks".announce_availability(topics text[], delays bigint[]) RETURNS bigint
    LANGUAGE plpgsql VOLATILE AS $$
    BEGIN
      IF coalesce(array_length(topics, 1), 0) = 0 THEN RETURN 0; END IF;
      RETURN (
      WITH hints AS (
        SELECT json_build_array(topic, min(delay), count(*))::text AS hint
        FROM unnest(topics, delays) AS h(topic, delay) GROUP BY topic
      ), chunked AS (
        SELECT hint, sum(octet_length(hint) + 1) OVER (ORDER BY hint ROWS UNBOUNDED PRECEDING) / 6000 AS chunk
        FROM hints
      )
      SELECT count(*) FROM (
        SELECT pg_notify('external_tasks', 'h[' || string_agg(hint, ',') || ']') FROM chunked GROUP BY chunk
      ) AS sent
      );
    END $$;
