-- Built by lib/postgres/sql/change-feed.ts (changeFeedStatements.ends).
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

SELECT sequenced_through::float8 AS sequenced, pruned_through::float8 AS pruned FROM "external_tasks".feed;
