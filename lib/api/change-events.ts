import type { ContainedEventEmitter, ExternalTaskEvents } from '../events/index.js';
import type { ExternalTaskChange } from '../repository/index.js';

/** Emits the `task:*` event of a change of the store's feed, with the payload its type carries. */
export function emitChangeEvent(
  events: ContainedEventEmitter<ExternalTaskEvents>,
  change: ExternalTaskChange,
): void {
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
      events.emit(`task:${change.type}`, { task });
  }
}
