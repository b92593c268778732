import type { Migration } from './migration.js';

/**
 * Version 2: positions are given by the statement that records the changes, not by a sequencer run
 * after it. `record_changes` locks the feed's one row (as the statement's last step, after every task row
 * it locks), takes the next positions, inserts the changes with them, prunes what falls out of the
 * retention and notifies `s`. The row lock is held until the commit, so the next statement's positions
 * are taken after this one's are visible: positions become visible in order, and a reader of
 * "position > last" never sees a gap that fills later. Rows recorded by version 1 and not yet sequenced
 * get their positions here.
 */
export const positionsAtRecording: Migration = {
  version: 2,
  description: 'positions given by the recording statement',
  statements: ({ schema: s, channel }) => [
    `DROP TRIGGER changes_announce ON ${s}.changes`,
    `DROP FUNCTION ${s}.announce_changes()`,
    `WITH unsequenced AS (
      SELECT id, row_number() OVER (ORDER BY id) AS n FROM ${s}.changes WHERE position IS NULL
    ), assigned AS (
      UPDATE ${s}.changes c SET position = feed.sequenced_through + u.n
      FROM unsequenced u, ${s}.feed feed WHERE c.id = u.id
    )
    UPDATE ${s}.feed SET sequenced_through = sequenced_through + (SELECT count(*) FROM unsequenced)`,
    `DROP INDEX ${s}.changes_unsequenced`,
    `ALTER TABLE ${s}.changes ALTER COLUMN position SET NOT NULL`,
    // types[k] and tasks[k] are the k-th change of the statement, in its order; retention: how many of
    // the latest positions are kept. Notifies 's' and the last position given. Answers the changes
    // recorded, as a JSON array of [position, type, task] (NULL when there was none), so that the
    // recording process can deliver them without reading them back.
    `CREATE FUNCTION ${s}.record_changes(types text[], tasks json[], retention bigint) RETURNS json
    LANGUAGE plpgsql VOLATILE AS $$
    DECLARE
      recorded bigint := coalesce(array_length(types, 1), 0);
      previous ${s}.feed;
      through bigint;
      pruned bigint;
    BEGIN
      IF recorded = 0 THEN RETURN NULL; END IF;
      SELECT * INTO previous FROM ${s}.feed FOR UPDATE;
      through := previous.sequenced_through + recorded;
      pruned := greatest(previous.pruned_through, through - retention);
      UPDATE ${s}.feed SET sequenced_through = through, pruned_through = pruned;
      INSERT INTO ${s}.changes (position, type, task)
        SELECT previous.sequenced_through + k, types[k], tasks[k] FROM generate_subscripts(types, 1) AS k;
      IF pruned > previous.pruned_through THEN
        DELETE FROM ${s}.changes WHERE position > previous.pruned_through AND position <= pruned;
      END IF;
      PERFORM pg_notify(${channel}, 's' || through);
      RETURN (SELECT json_agg(json_build_array(previous.sequenced_through + k, types[k], tasks[k]) ORDER BY k)
              FROM generate_subscripts(types, 1) AS k);
    END $$`,
  ],
};
