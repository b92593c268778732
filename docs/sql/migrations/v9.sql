-- Built by lib/postgres/sql/migrations/ (version 9: one row of the change feed per statement).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

LOCK TABLE "external_tasks".feed, "external_tasks".changes IN ACCESS EXCLUSIVE MODE;

ALTER TABLE "external_tasks".changes RENAME TO changes_of_version_8;

CREATE TABLE "external_tasks".changes (
      first_position bigint PRIMARY KEY,
      last_position bigint NOT NULL,
      types text[] NOT NULL,
      tasks json[] NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT now(),
      CHECK (last_position - first_position + 1 = cardinality(types) AND cardinality(types) = cardinality(tasks))
    );

INSERT INTO "external_tasks".changes (first_position, last_position, types, tasks, recorded_at)
      SELECT position, position, ARRAY[type], ARRAY[task], recorded_at FROM "external_tasks".changes_of_version_8;

DROP TABLE "external_tasks".changes_of_version_8;

CREATE OR REPLACE FUNCTION "external_tasks".record_changes(types text[], tasks json[], retention bigint) RETURNS json
    LANGUAGE plpgsql VOLATILE AS $$
    DECLARE
      recorded bigint := coalesce(array_length(types, 1), 0);
      previous "external_tasks".feed;
      through bigint;
      pruned bigint;
    BEGIN
      IF recorded = 0 THEN RETURN NULL; END IF;
      SELECT * INTO previous FROM "external_tasks".feed FOR UPDATE;
      through := previous.sequenced_through + recorded;
      pruned := greatest(previous.pruned_through, through - retention);
      UPDATE "external_tasks".feed SET sequenced_through = through, pruned_through = pruned;
      INSERT INTO "external_tasks".changes (first_position, last_position, types, tasks)
        VALUES (previous.sequenced_through + 1, through, types, tasks);
      IF pruned > previous.pruned_through THEN
        DELETE FROM "external_tasks".changes
        WHERE first_position >= coalesce((SELECT max(first_position) FROM "external_tasks".changes
                                          WHERE first_position <= previous.pruned_through + 1), 0)
          AND first_position <= pruned AND last_position <= pruned;
      END IF;
      PERFORM pg_notify('external_tasks', 's' || through);
      RETURN (SELECT json_agg(json_build_array(previous.sequenced_through + k, types[k], tasks[k]) ORDER BY k)
              FROM generate_subscripts(types, 1) AS k);
    END $$;
