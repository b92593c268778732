import { placeColumnNames } from './task-places.js';

/** One column a write sets and the SQL value it gets (on the task `t` before the write). */
export type Assignment = readonly [column: string, value: string];

/** What happens to the row of a task that ends (finished, failed, cancelled). */
export type EndedRows = 'kept' | 'deleted';

/** The SET list of `assignments`. */
export function setList(assignments: readonly Assignment[]): string {
  return assignments.map(([column, value]) => `${column} = ${value}`).join(',\n      ');
}

/**
 * The task row `t` as the write would leave it, without writing it: `json_populate_record` fills the
 * assigned columns from their values and keeps the others (a JSON `null` becomes SQL NULL: see
 * {@link EndingWrite.jsonNullResult}).
 */
function rowAfter(assignments: readonly Assignment[]): string {
  const pairs = assignments.map(([column, value]) => `'${column}', ${value}`).join(', ');
  return `json_populate_record(t, json_build_object(${pairs}))`;
}

/** A write whose tasks end, in the form that deletes their rows. */
export interface EndingWrite {
  /** The table the task rows are joined with (`USING` of the delete, `FROM` of the update), or ''. */
  readonly using: string;
  /** Which task rows the write takes, on `t` and the tables of `using`. */
  readonly where: string;
  /** The columns to answer besides the task's: each name and its value (on `t` and `using`). */
  readonly returning: readonly Assignment[];
  /** The write's assignments. */
  readonly assignments: readonly Assignment[];
  /**
   * The tasks whose row stays (written, not deleted), on `t` before the write and `using`: the ones
   * that become incidents, which wait for an operator. 'false': every row goes.
   */
  readonly kept: string;
  /**
   * Whether the write's result is the JSON `null` (on `t` and `using`), which `json_populate_record`
   * would read as no result: its record says so itself. 'false' for writes without a result.
   */
  readonly jsonNullResult: string;
}

/**
 * The CTEs (the first without a leading comma) of a write that ends tasks and deletes their rows, for a
 * store whose final tasks go at once (`finalTaskRetention: 0`): `name_deleted` deletes the row and
 * answers the task as the write would have left it, `name_kept` writes the rows that stay (incidents),
 * and `name` answers both as an update would: `returning`'s columns, the place columns, and `record`.
 * A deleted row writes no index entry, and its task needs no `ended` row (see
 * `task-places.ts`, `endDeleting`): its outcome lives on in the change feed, where the statement
 * records it.
 */
export function endingWithDeletes(s: string, name: string, write: EndingWrite): string {
  const from = write.using === '' ? '' : ` ${write.using}`;
  const returned = write.returning.map(([column, value]) => `${value} AS ${column}, `).join('');
  const deleted = `${name}_deleted AS (
  DELETE FROM ${s}.tasks t${from === '' ? '' : ` USING${from}`}
  WHERE ${write.where} AND NOT (${write.kept})
  RETURNING ${returned}${rowAfter(write.assignments)} AS task,
    ${write.jsonNullResult === 'false' ? 'false' : `coalesce(${write.jsonNullResult}, false)`} AS null_result
)`;
  const kept =
    write.kept === 'false'
      ? ''
      : `${name}_kept AS (
  UPDATE ${s}.tasks t
  SET ${setList(write.assignments)}${from === '' ? '' : `\n  FROM${from}`}
  WHERE ${write.where} AND (${write.kept})
  RETURNING ${returned}t AS task, false AS null_result
),
`;
  const rows =
    write.kept === 'false'
      ? `${name}_deleted`
      : `(SELECT * FROM ${name}_kept UNION ALL SELECT * FROM ${name}_deleted) AS rows`;
  const record = `${s}.task_record(task)`;
  return `${kept}${deleted},
${name} AS (
  SELECT ${write.returning.map(([column]) => `${column}, `).join('')}${placeColumnNames.map((column) => `(task).${column}`).join(', ')},
    CASE WHEN null_result THEN (${record}::jsonb || '{"hasResult": true, "result": null}')::json
         ELSE ${record} END AS record
  FROM ${rows}
)`;
}
