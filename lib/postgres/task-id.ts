/** Ids are UUIDs the database made; anything else names no task (and must not reach a `uuid` cast). */
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Whether `value` can be the id of a task (a lower-case UUID, as the database writes them). */
export function isTaskId(value: unknown): value is string {
  return typeof value === 'string' && uuid.test(value);
}
