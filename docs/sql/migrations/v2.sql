-- Built by lib/postgres/sql/migrations/ (version 2: positions given by the recording statement).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

DROP TRIGGER changes_announce ON "external_tasks".changes;

DROP FUNCTION "external_tasks".announce_changes();

WITH unsequenced AS (
      SELECT id, row_number() OVER (ORDER BY id) AS n FROM "external_tasks".changes WHERE position IS NULL
    ), assigned AS (
      UPDATE "external_tasks".changes c SET position = feed.sequenced_through + u.n
      FROM unsequenced u, "external_tasks".feed feed WHERE c.id = u.id
    )
    UPDATE "external_tasks".feed SET sequenced_through = sequenced_through + (SELECT count(*) FROM unsequenced);

DROP INDEX "external_tasks".changes_unsequenced;

ALTER TABLE "external_tasks".changes ALTER COLUMN position SET NOT NULL;

CREATE FUNCTION "external_tasks".record_changes(types text[], tasks json[], retention bigint) RETURNS json
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
      INSERT INTO "external_tasks".changes (position, type, task)
        SELECT previous.sequenced_through + k, types[k], tasks[k] FROM generate_subscripts(types, 1) AS k;
      IF pruned > previous.pruned_through THEN
        DELETE FROM "external_tasks".changes WHERE position > previous.pruned_through AND position <= pruned;
      END IF;
      PERFORM pg_notify('external_tasks', 's' || through);
      RETURN (SELECT json_agg(json_build_array(previous.sequenced_through + k, types[k], tasks[k]) ORDER BY k)
              FROM generate_subscripts(types, 1) AS k);
    END $$;
