import type { ContainedEventEmitter, ExternalTaskEventName, ExternalTaskEvents } from '../events/index.js';
import type { ExternalTaskChange } from '../repository/index.js';

/** The event of each type of change. */
const eventNames = {
  created: 'task:created',
  locked: 'task:locked',
  extended: 'task:extended',
  unlocked: 'task:unlocked',
  lockExpired: 'task:lockExpired',
  retryScheduled: 'task:retryScheduled',
  retryDue: 'task:retryDue',
  retriesSet: 'task:retriesSet',
  prioritySet: 'task:prioritySet',
  finished: 'task:finished',
  failed: 'task:failed',
  cancelled: 'task:cancelled',
} as const satisfies Record<ExternalTaskChange['type'], ExternalTaskEventName>;

/**
 * Emits the `task:*` event of a change of the store's feed, with the payload its type carries; an event
 * nobody listens to costs no payload.
 */
export function emitChangeEvent(
  events: ContainedEventEmitter<ExternalTaskEvents>,
  change: ExternalTaskChange,
): void {
  if (events.listenerCount(eventNames[change.type]) === 0) return;
  const { task } = change;
  switch (change.type) {
    case 'finished':
      events.emit('task:finished', { task, result: change.result });
      return;
    case 'failed':
      events.emit('task:failed', { task, error: change.error, incident: change.incident });
      return;
    case 'retryScheduled':
      events.emit('task:retryScheduled', { task, error: change.error });
      return;
    default:
      events.emit(eventNames[change.type], { task });
  }
}
