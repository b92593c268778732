/**
 * The bare SQL floor of the PostgreSQL benchmark: one claim statement and one finish statement per round,
 * no API, on the store's own table and indexes — what a statement's commit costs on this machine, the
 * figure the store's lifecycle is compared with in the same run.
 */
import { startPhase, throughput, type Throughput } from './support.js';

/**
 * The floor's statements: the claim and the finish, bare, on the store's own tables and indexes (schema
 * version 8: the pending row and the task row; the finish files the task in `ended`).
 */
function floorStatements(schema: string, topic: string) {
  const s = `"${schema}"`;
  return {
    claim: `
WITH chosen AS (
  SELECT id FROM ${s}.pending
  WHERE topic = '${topic}' AND available_at IS NULL
  ORDER BY priority DESC, sequence
  LIMIT $2
  FOR UPDATE SKIP LOCKED
),
scheduled AS (
  UPDATE ${s}.pending p SET worker_id = $1, available_at = now() + interval '5 minutes'
  FROM chosen WHERE p.id = chosen.id
)
UPDATE ${s}.tasks t
SET worker_id = $1, lock_expires_at = now() + interval '5 minutes', attempts = t.attempts + 1
FROM chosen
WHERE t.id = chosen.id
RETURNING t.id`,
    finish: `
WITH finished AS (
  UPDATE ${s}.tasks SET state = 'finished', finished_at = now(), lock_expires_at = NULL
  WHERE id = ANY($1::uuid[]) RETURNING id, sequence, worker_id, finished_at
),
unqueued AS (DELETE FROM ${s}.pending WHERE id = ANY($1::uuid[]))
INSERT INTO ${s}.ended (id, sequence, state, worker_id, finished_at)
SELECT id, sequence, 'finished', worker_id, finished_at FROM finished`,
  };
}

/**
 * One floor run: `count` pending tasks of `topic` inserted (untimed), then `loops` loops that each claim `batch`
 * tasks in one statement and finish them in one statement, until none is left. Answers tasks/s and
 * the CPU per task.
 */
export async function floorRun(
  run: (text: string, params: unknown[]) => Promise<{ rows: unknown[] }>,
  schema: string,
  topic: string,
  count: number,
  loops: number,
  batch: number,
): Promise<Throughput> {
  await run(
    `WITH stored AS (
       INSERT INTO "${schema}".tasks (topic, flow_node_instance_id, correlation_id, process_instance_id,
         payload, priority, created_at)
       SELECT '${topic}', 'fni-' || g, 'c-' || g, 'pi-' || g, 'null', g % 3, now()
       FROM generate_series(1, $1::integer) g
       RETURNING id, topic, priority, sequence
     )
     INSERT INTO "${schema}".pending (id, topic, priority, sequence) SELECT * FROM stored`,
    [count],
  );
  const { claim, finish } = floorStatements(schema, topic);
  let finished = 0;
  const loop = async (n: number): Promise<void> => {
    for (;;) {
      const { rows } = await run(claim, [`floor-${n}`, batch]);
      if (rows.length === 0) return;
      await run(finish, [rows.map((row) => (row as { id: string }).id)]);
      finished += rows.length;
    }
  };
  const phase = startPhase();
  await Promise.all(Array.from({ length: loops }, (_, n) => loop(n)));
  const timed = phase();
  if (finished !== count) throw new Error(`the floor finished ${finished} of ${count} tasks`);
  return throughput(count, timed);
}
