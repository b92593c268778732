/**
 * The query of `announce_availability(topics, delays)`: the availability hints of one statement, one
 * per topic (the smallest delay, the number of tasks), sent as 'h' + a JSON array of [topic, delay,
 * count], split so that no payload passes PostgreSQL's 8000 bytes (a hint is at most about 1,600 bytes:
 * a topic of 255 characters, escaped). Answers how many notifications it sent. Version 1 made it the
 * body of an SQL function, version 4 the answer of a PL/pgSQL one; the payloads are the same.
 */
export function announceAvailabilityQuery(channel: string): string {
  return `
      WITH hints AS (
        SELECT json_build_array(topic, min(delay), count(*))::text AS hint
        FROM unnest(topics, delays) AS h(topic, delay) GROUP BY topic
      ), chunked AS (
        SELECT hint, sum(octet_length(hint) + 1) OVER (ORDER BY hint ROWS UNBOUNDED PRECEDING) / 6000 AS chunk
        FROM hints
      )
      SELECT count(*) FROM (
        SELECT pg_notify(${channel}, 'h[' || string_agg(hint, ',') || ']') FROM chunked GROUP BY chunk
      ) AS sent`;
}
