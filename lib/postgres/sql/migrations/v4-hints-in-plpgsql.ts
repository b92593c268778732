import type { Migration } from './migration.js';

/**
 * Version 4: `announce_availability` in PL/pgSQL. As an SQL function that cannot be inlined (it
 * notifies), version 1's was planned anew at every call, in every statement that hints — about half a
 * millisecond of each claim. A PL/pgSQL function keeps its plan for the connection's life. It also
 * returns at once when the statement hints nothing. Same signature, same payloads.
 */
export const hintsInPlpgsql: Migration = {
  version: 4,
  description: 'availability hints sent by a PL/pgSQL function',
  statements: ({ schema: s, channel }) => [
    `CREATE OR REPLACE FUNCTION ${s}.announce_availability(topics text[], delays bigint[]) RETURNS bigint
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
        SELECT pg_notify(${channel}, 'h[' || string_agg(hint, ',') || ']') FROM chunked GROUP BY chunk
      ) AS sent
      );
    END $$`,
  ],
};
