import type { SqlNames } from './names.js';

/**
 * The statements of named consumers' leases and positions (table `consumers`, schema version 10), each one
 * conditional statement on one row, found by its key. A lease's times are the store's: `clock($1)`, the
 * injected time in ms or NULL for the database's own.
 */
export function consumerLeaseStatements({ schema: s }: SqlNames) {
  const expiry = `${s}.clock($1) + $4::bigint * interval '1 millisecond'`;
  return {
    /**
     * Takes the lease of the name $2 for the holder $3 for $4 ms: inserts the name's row (no position
     * yet) on its first acquisition; else takes the row if nobody holds it, its lease ran out or $3 holds
     * it already. `ON CONFLICT … DO UPDATE` decides on the row's newest version (a racing insert of the
     * same name is waited for), so of racing acquisitions of a free lease exactly one takes it. Answers
     * `position` (NULL: none stored yet), or no row: another holds the lease.
     */
    acquire: `
INSERT INTO ${s}.consumers AS c (name, holder, lease_expires_at) VALUES ($2, $3, ${expiry})
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, lease_expires_at = excluded.lease_expires_at
WHERE c.holder IS NULL OR c.holder = excluded.holder OR c.lease_expires_at <= ${s}.clock($1)
RETURNING c.position::float8 AS position`,
    /**
     * Who holds the lease of the name $2, and for how many more ms from the time $1: read after a refused
     * acquisition, to tell the asker (it decides nothing). No row: the name is unknown.
     */
    holder: `
SELECT holder, (${s}.ms(lease_expires_at) - ${s}.ms(${s}.clock($1)))::float8 AS ms
FROM ${s}.consumers WHERE name = $2`,
    /**
     * Renews the lease of the name $2 for $4 ms if the holder $3 holds it (run out or not), and stores
     * the position $5 unless NULL or behind the stored one (`greatest` passes over NULL). Answers a row if
     * renewed, none if the lease is not $3's.
     */
    renew: `
UPDATE ${s}.consumers SET lease_expires_at = ${expiry}, position = greatest(position, $5::bigint)
WHERE name = $2 AND holder = $3
RETURNING true AS renewed`,
    /** Frees the lease of the name $1 if the holder $2 holds it, storing the position $3 as `renew` does. */
    release: `
UPDATE ${s}.consumers SET holder = NULL, lease_expires_at = NULL, position = greatest(position, $3::bigint)
WHERE name = $1 AND holder = $2
RETURNING true AS released`,
  };
}
