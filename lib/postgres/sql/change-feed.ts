import type { SqlNames } from './names.js';

/**
 * The advisory lock of one schema's sequencer (two keys: the library, the schema). Transaction-scoped:
 * released at commit, after the positions it gave are visible.
 */
function sequencerLock(name: string): string {
  return `hashtext('external-task-api'), hashtext('${name}:sequencer')`;
}

/** The statements of the change feed. */
export function changeFeedStatements({ schema: s, channel, name }: SqlNames) {
  return {
    /** Takes the sequencer's lock if no other run holds it. Answers `locked`. */
    trySequencerLock: `SELECT pg_try_advisory_xact_lock(${sequencerLock(name)}) AS locked`,
    /** Waits for the sequencer's lock (for a caller that must see its own changes counted). */
    sequencerLock: `SELECT pg_advisory_xact_lock(${sequencerLock(name)}), true AS locked`,
    /**
     * Run under the sequencer's lock, in its own statement (so that its snapshot is taken after the
     * lock, and sees every position an earlier run gave): gives the next positions, consecutively, to
     * every committed change without one, in insertion order, and tells every process (`s`). A change
     * that commits after this snapshot keeps no position until a later run, which gives it a later one;
     * readers read positions only, so none of them can see a gap or miss a change. Answers `through`
     * (the last position) when it gave any.
     */
    sequence: `
WITH unsequenced AS (
  SELECT id, row_number() OVER (ORDER BY id) AS n FROM ${s}.changes WHERE position IS NULL
),
assigned AS (
  UPDATE ${s}.changes c SET position = feed.sequenced_through + u.n
  FROM unsequenced u, ${s}.feed feed
  WHERE c.id = u.id
),
advanced AS (
  UPDATE ${s}.feed SET sequenced_through = sequenced_through + (SELECT count(*) FROM unsequenced)
  WHERE EXISTS (SELECT 1 FROM unsequenced)
  RETURNING sequenced_through
)
SELECT sequenced_through::float8 AS through, pg_notify(${channel}, 's') FROM advanced`,
    /**
     * Retention, by count: keeps the latest $1 positions, deletes older ones (in the sequencer's
     * transaction, so at most what it just sequenced), and remembers the last one deleted.
     */
    prune: `
WITH bound AS (
  SELECT pruned_through AS previous, sequenced_through - $1::bigint AS through FROM ${s}.feed
  WHERE sequenced_through - $1::bigint > pruned_through
),
deleted AS (
  DELETE FROM ${s}.changes c USING bound
  WHERE c.position > bound.previous AND c.position <= bound.through
)
UPDATE ${s}.feed SET pruned_through = bound.through FROM bound`,
    /** The feed's ends: `sequenced` (the current position) and `pruned` (the oldest resumable). */
    ends: `SELECT sequenced_through::float8 AS sequenced, pruned_through::float8 AS pruned FROM ${s}.feed`,
    /**
     * Up to $2 changes after the position $1, in order, with the oldest resumable position (`pruned`):
     * a reader behind it lost changes. No change: one row with NULL `position`.
     */
    read: `
SELECT feed.pruned_through::float8 AS pruned, c.position::float8 AS position, c.type, c.task
FROM ${s}.feed feed LEFT JOIN LATERAL (
  SELECT position, type, task FROM ${s}.changes WHERE position > $1::bigint ORDER BY position LIMIT $2
) c ON true
ORDER BY c.position`,
  };
}
