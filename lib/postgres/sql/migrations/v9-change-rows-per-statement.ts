import type { Migration } from './migration.js';

/**
 * Version 9: one row of the feed per statement, not per change. A statement that records changes inserts
 * one row holding them all — the range of positions it took (`first_position` … `last_position`, dense, in
 * the statement's order), their types and their task records — instead of a row and an index entry per
 * change: a claim or a shared finish of 16 tasks writes one row and one index entry where it wrote 16 and
 * 16. Readers unnest the rows (`change-feed.ts`); a page of a read holds whole rows. The retention prunes
 * the rows whose last position it passed.
 *
 * The feed's rows of version 8 are copied, one row per change. The feed's table is locked first, so that
 * no statement of a process of version 8 records changes between the copy and the switch. Processes of
 * version 8 must be stopped before: their statements record into the columns this version replaces and
 * fail.
 */
export const changeRowsPerStatement: Migration = {
  version: 9,
  description: 'one row of the change feed per statement',
  statements: ({ schema: s, channel }) => [
    `LOCK TABLE ${s}.feed, ${s}.changes IN ACCESS EXCLUSIVE MODE`,
    `ALTER TABLE ${s}.changes RENAME TO changes_of_version_8`,
    `CREATE TABLE ${s}.changes (
      first_position bigint PRIMARY KEY,
      last_position bigint NOT NULL,
      types text[] NOT NULL,
      tasks json[] NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT now(),
      CHECK (last_position - first_position + 1 = cardinality(types) AND cardinality(types) = cardinality(tasks))
    )`,
    `INSERT INTO ${s}.changes (first_position, last_position, types, tasks, recorded_at)
      SELECT position, position, ARRAY[type], ARRAY[task], recorded_at FROM ${s}.changes_of_version_8`,
    `DROP TABLE ${s}.changes_of_version_8`,
    // Same signature and answer as version 2's: types[k] and tasks[k] are the statement's k-th change;
    // retention: how many of the latest positions are kept. The feed's row is locked last in the statement
    // and held to the commit, so positions become visible in order. The rows the retention passed are
    // deleted: those whose last position is at most the new pruned position, found from the row that
    // holds the position after the old one (every row before it was deleted already).
    `CREATE OR REPLACE FUNCTION ${s}.record_changes(types text[], tasks json[], retention bigint) RETURNS json
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
      INSERT INTO ${s}.changes (first_position, last_position, types, tasks)
        VALUES (previous.sequenced_through + 1, through, types, tasks);
      IF pruned > previous.pruned_through THEN
        DELETE FROM ${s}.changes
        WHERE first_position >= coalesce((SELECT max(first_position) FROM ${s}.changes
                                          WHERE first_position <= previous.pruned_through + 1), 0)
          AND first_position <= pruned AND last_position <= pruned;
      END IF;
      PERFORM pg_notify(${channel}, 's' || through);
      RETURN (SELECT json_agg(json_build_array(previous.sequenced_through + k, types[k], tasks[k]) ORDER BY k)
              FROM generate_subscripts(types, 1) AS k);
    END $$`,
  ],
};
