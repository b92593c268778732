/**
 * The columns a statement that writes tasks returns in `source` for {@link keepPlaces}: the task after the
 * write, and its state before it.
 */
export const placeColumnNames = [
  'id',
  'topic',
  'priority',
  'sequence',
  'tenant_id',
  'process_model_id',
  'worker_id',
  'lock_expires_at',
  'retry_at',
  'state',
  'finished_at',
  'incident',
] as const;

/** {@link placeColumnNames} on the task `t`, for a `RETURNING` list. */
export const placeColumns = placeColumnNames.map((column) => `t.${column}`).join(', ');

/**
 * What a kind of write can do to a task's place: move a pending task in `pending` (a new worker, time or
 * priority: `reschedule`), end it (`end`: from `pending` to `ended`), bring a final one back (`revive`),
 * or end it where final tasks go at once (`endDeleting`: out of `pending`; only an incident, whose row
 * stays, gets an `ended` row).
 */
export type PlaceChange = 'reschedule' | 'end' | 'revive' | 'endDeleting';

const stays = `state = 'pending' AND previous_state = 'pending'`;
const ends = `state <> 'pending' AND previous_state = 'pending'`;
const revives = `state = 'pending' AND previous_state <> 'pending'`;

/** The step that deletes the `pending` rows of the tasks of `source` that ended. */
function unqueue(s: string, source: string): [string, string] {
  return [
    'unqueued',
    `DELETE FROM ${s}.pending p WHERE p.id = ANY(ARRAY(SELECT id FROM ${source} WHERE ${ends}))`,
  ];
}

/** The step that inserts the `ended` rows of the tasks of `source` that match `condition`. */
function endedRows(s: string, source: string, condition: string): [string, string] {
  return [
    'ended',
    `INSERT INTO ${s}.ended (id, sequence, state, worker_id, finished_at, incident)
  SELECT id, sequence, state, worker_id, finished_at, incident FROM ${source} WHERE ${condition}`,
  ];
}

/** The CTEs (name suffix, body) that make each change, on the rows of `source`. */
const placeSteps: Record<PlaceChange, (s: string, source: string) => [string, string][]> = {
  reschedule: (s, source) => [
    [
      'rescheduled',
      `UPDATE ${s}.pending p
  SET worker_id = w.worker_id, available_at = coalesce(w.lock_expires_at, w.retry_at), priority = w.priority
  FROM ${source} w
  WHERE p.id = w.id AND p.id = ANY(ARRAY(SELECT id FROM ${source} WHERE ${stays}))
    AND (p.worker_id, p.available_at, p.priority) IS DISTINCT FROM
        (w.worker_id, coalesce(w.lock_expires_at, w.retry_at), w.priority)`,
    ],
  ],
  end: (s, source) => [unqueue(s, source), endedRows(s, source, ends)],
  endDeleting: (s, source) => [unqueue(s, source), endedRows(s, source, `${ends} AND incident IS TRUE`)],
  revive: (s, source) => [
    [
      'revived',
      `INSERT INTO ${s}.pending (id, topic, priority, sequence, tenant_id, process_model_id, worker_id, available_at)
  SELECT id, topic, priority, sequence, tenant_id, process_model_id, worker_id, coalesce(lock_expires_at, retry_at)
  FROM ${source} WHERE ${revives}`,
    ],
    [
      'unended',
      `DELETE FROM ${s}.ended e
  WHERE e.state = 'failed' AND e.sequence = ANY(ARRAY(SELECT sequence FROM ${source} WHERE ${revives}))`,
    ],
  ],
};

/**
 * Keeps a task's place in step with the task rows a statement wrote (schema version 8): the CTEs (to
 * append after `source`, each starting with a comma) that make the `changes` this kind of write can make —
 * update the `pending` row of a task that stays pending (only when its worker, time or priority changed),
 * move a task that ended from `pending` to `ended`, move a revived one back — and no others (each costs
 * the statement a step). `source` is a CTE with {@link placeColumns} and `previous_state`. The task rows
 * are locked first (by the write), so the rows of `pending` and `ended` are written by the holder of
 * their task's lock only — or by a claim, which holds both and waits for nothing but the feed's row (see
 * `claim-tasks.ts`). The statement must read {@link placesKept} before it records its changes: a
 * data-modifying CTE that nothing reads runs after the statement's last step, which would then hold the
 * feed's row while waiting for a `pending` row that a claim holds, and the claim waits for the feed.
 */
export function keepPlaces(s: string, source: string, changes: readonly PlaceChange[]): string {
  return changes
    .flatMap((change) => placeSteps[change](s, source))
    .map(([name, body]) => `,\n${source}_${name} AS (\n  ${body}\n  RETURNING 1\n)`)
    .join('');
}

/**
 * A condition (always true) that reads every CTE of {@link keepPlaces} for `source` and `changes` to its
 * end: put in the rows a statement records (`recordChanges`), it makes them run before the feed's row is
 * locked.
 */
export function placesKept(source: string, changes: readonly PlaceChange[]): string {
  return changes
    .flatMap((change) =>
      placeSteps[change]('', source).map(([name]) => `(SELECT count(*) FROM ${source}_${name})`),
    )
    .join(' + ')
    .concat(' >= 0');
}

/**
 * Deletes the `ended` rows of the final tasks of `source` (a CTE with `sequence`, whose task rows the
 * statement holds and deletes): a lookup in `ended_state` per task.
 */
export function forgetEnded(s: string, source: string): string {
  return `
  DELETE FROM ${s}.ended e
  WHERE e.state = ANY('{finished,failed,cancelled}'::text[]) AND e.sequence = ANY(ARRAY(SELECT sequence FROM ${source}))`;
}
