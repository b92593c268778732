-- Built by lib/postgres/sql/claim-tasks.ts (claimTasks), claim-candidates.ts, scope.ts.
-- Rendered for the schema "external_tasks" and the default options by npm run docs:sql; do not edit.

WITH clock AS (SELECT "external_tasks".clock($1) AS now),
requested AS (
  SELECT DISTINCT ON (topic) topic, lock_ms
  FROM unnest($2::text[], $3::bigint[]) WITH ORDINALITY AS r(topic, lock_ms, n)
  ORDER BY topic, n
),
-- The first $4 tasks of each topic available without a time (never locked, given back, revived).
ready AS (
  SELECT c.*, r.lock_ms FROM requested r CROSS JOIN LATERAL (
    -- No tenant list: the query as it is.
    SELECT * FROM (
    SELECT t.id, t.priority, t.sequence
    FROM "external_tasks".pending t
    WHERE t.topic = r.topic AND t.available_at IS NULL AND coalesce(t.tenant_id = ANY($7::text[]), $7::text[] IS NULL) AND coalesce(t.process_model_id = ANY($8::text[]), $8::text[] IS NULL)
    ORDER BY t.priority DESC, t.sequence
    LIMIT $4
    FOR UPDATE OF t SKIP LOCKED
    ) everyone WHERE $7::text[] IS NULL
    UNION ALL
    -- A tenant list: the query once for each tenant of it, reading that tenant's own index entries.
    SELECT of_tenant.* FROM (SELECT DISTINCT tenant FROM unnest($7::text[]) AS listed(tenant)) scope
    CROSS JOIN LATERAL (
    SELECT t.id, t.priority, t.sequence
    FROM "external_tasks".pending t
    WHERE t.topic = r.topic AND t.available_at IS NULL AND t.tenant_id = scope.tenant AND coalesce(t.tenant_id = ANY($7::text[]), $7::text[] IS NULL) AND coalesce(t.process_model_id = ANY($8::text[]), $8::text[] IS NULL)
    ORDER BY t.priority DESC, t.sequence
    LIMIT $4
    FOR UPDATE OF t SKIP LOCKED
    ) of_tenant
  ) c
),
-- The first $4 tasks of each topic whose lock expired or whose retry came due.
due AS (
  SELECT c.*, r.lock_ms FROM requested r CROSS JOIN LATERAL (
    -- Many due tasks (more than 100): walk at most 10000 waiting tasks in hand-out order, keeping the due ones.
    WITH walked AS MATERIALIZED (
    SELECT t.id, t.priority, t.sequence
    FROM (
        SELECT w.id, w.priority, w.sequence FROM "external_tasks".pending w
        WHERE w.topic = r.topic AND w.available_at > timestamptz '-infinity' AND (SELECT count(*) FROM (
          SELECT FROM "external_tasks".pending d WHERE d.topic = r.topic AND d.available_at <= (SELECT now FROM clock)
          LIMIT 101
        ) d) > 100
        ORDER BY w.priority DESC, w.sequence
        LIMIT 10000
      ) walk JOIN "external_tasks".pending t ON t.id = walk.id
    WHERE t.topic = r.topic AND t.available_at <= (SELECT now FROM clock) AND coalesce(t.tenant_id = ANY($7::text[]), $7::text[] IS NULL) AND coalesce(t.process_model_id = ANY($8::text[]), $8::text[] IS NULL)
    ORDER BY walk.priority DESC, walk.sequence
    LIMIT $4
    FOR UPDATE OF t SKIP LOCKED
    )
    SELECT * FROM walked WHERE (SELECT count(*) FROM walked) >= $4
    UNION ALL
    -- Few due tasks, or the walk found fewer than $4: every due task (a range of pending_waiting up to now), sorted.
    SELECT * FROM (
    SELECT t.id, t.priority, t.sequence
    FROM "external_tasks".pending t
    WHERE t.topic = r.topic AND t.available_at <= (SELECT now FROM clock) AND coalesce(t.tenant_id = ANY($7::text[]), $7::text[] IS NULL) AND coalesce(t.process_model_id = ANY($8::text[]), $8::text[] IS NULL)
    ORDER BY t.priority DESC, t.sequence
    LIMIT $4
    FOR UPDATE OF t SKIP LOCKED
    ) sorted WHERE (SELECT count(*) FROM walked) < $4
  ) c
),
-- Both merged in hand-out order: the first $4 (their pending rows are locked).
candidates AS (
  SELECT * FROM ready UNION ALL SELECT * FROM due
  ORDER BY priority DESC, sequence
  LIMIT $4
),
-- Their task rows, locked without waiting (a task a write holds drops out), with the record a takeover records.
held AS MATERIALIZED (
  SELECT task.id,
         CASE WHEN task.lock_expires_at IS NOT NULL THEN 'lockExpired'
              WHEN task.retry_at IS NOT NULL THEN 'retryDue' END AS takeover,
         CASE WHEN coalesce(task.lock_expires_at, task.retry_at) IS NOT NULL THEN "external_tasks".task_record(task) END AS previous
  FROM "external_tasks".tasks task
  WHERE task.id = ANY(ARRAY(SELECT id FROM candidates))
  FOR UPDATE OF task SKIP LOCKED
),
chosen AS (
  SELECT candidates.*, held.takeover, held.previous,
         row_number() OVER (ORDER BY candidates.priority DESC, candidates.sequence) AS rank
  FROM candidates JOIN held ON held.id = candidates.id
),
-- Dealt to the requests of the batch in order: request k gets the tasks ranked after those of 1..k-1.
takers AS (
  SELECT n AS taker, worker_id, max_tasks, sum(max_tasks) OVER (ORDER BY n) - max_tasks AS dealt_before
  FROM unnest($5::text[], $6::integer[]) WITH ORDINALITY AS w(worker_id, max_tasks, n)
),
dealt AS (
  SELECT chosen.*, slot.taker, slot.worker_id FROM chosen CROSS JOIN LATERAL (
    SELECT taker, worker_id FROM takers
    WHERE dealt_before < chosen.rank AND chosen.rank <= dealt_before + max_tasks
    LIMIT 1
  ) slot
),
-- The pending rows and the task rows locked for their worker.
scheduled AS (
  UPDATE "external_tasks".pending p
  SET worker_id = dealt.worker_id, available_at = clock.now + dealt.lock_ms * interval '1 millisecond'
  FROM dealt, clock
  WHERE p.id = dealt.id AND p.id = ANY(ARRAY(SELECT id FROM dealt))
  RETURNING 1
),
claimed AS (
  UPDATE "external_tasks".tasks t
  SET worker_id = dealt.worker_id, lock_expires_at = clock.now + dealt.lock_ms * interval '1 millisecond',
      retry_at = NULL, attempts = t.attempts + 1
  FROM dealt, clock
  WHERE t.id = dealt.id AND t.id = ANY(ARRAY(SELECT id FROM dealt))
  RETURNING dealt.taker, t.id, t.topic, t.priority, t.sequence, dealt.lock_ms AS delay,
            "external_tasks".task_record(t) AS record
),
-- The changes: a takeover (lockExpired, retryDue) before its locked change, in hand-out order.
recorded AS (
  SELECT priority, sequence, 0 AS step, takeover AS type, previous AS task FROM dealt
  WHERE takeover IS NOT NULL
  UNION ALL
  SELECT priority, sequence, 1, 'locked', record FROM claimed
)
SELECT taker::integer AS taker, id, (SELECT "external_tasks".announce_availability(array_agg(topic), array_agg(delay)) FROM claimed WHERE delay IS NOT NULL) AS hinted,
  CASE WHEN row_number() OVER () = 1 THEN (SELECT "external_tasks".record_changes(array_agg(type ORDER BY priority DESC, sequence, step), array_agg(task ORDER BY priority DESC, sequence, step), 100000::bigint) FROM (SELECT * FROM recorded WHERE (SELECT count(*) FROM scheduled) >= 0) AS change) END AS recorded
FROM claimed ORDER BY priority DESC, sequence;
