import { frozenRecord, type ExternalTask } from '../../model/index.js';
import { HttpClientTransportError } from './http-client-transport-error.js';

const dateFields = ['createdAt', 'lockExpirationTime', 'finishedAt', 'retryAt'] as const;

/**
 * The task records of a fetch's JSON answer, with their dates as `Date`s again and frozen, as the
 * in-process API hands them out; typed as `Task`, the records of the client's topic map. An answer that
 * is not an array of records is an {@link HttpClientTransportError} of kind `response`.
 */
export function tasksFromResponse<Task extends ExternalTask<unknown, unknown> = ExternalTask>(
  body: unknown,
): Task[] {
  if (!Array.isArray(body) || !body.every(isRecord)) {
    throw new HttpClientTransportError(
      'response',
      'The server answered a fetch with something else than tasks.',
    );
  }
  const tasks = body.map((record) => {
    const task: Record<string, unknown> = { ...record };
    for (const field of dateFields) {
      if (typeof task[field] === 'string') task[field] = new Date(task[field]);
    }
    return frozenRecord(task as unknown as ExternalTask);
  });
  // The records the engine's creates stored: of its topic map, as the client declares it.
  return tasks as Task[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string';
}
