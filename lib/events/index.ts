export { ContainedEventEmitter } from './contained-event-emitter.js';
export type { ExternalTaskEventName, ExternalTaskEvents } from './external-task-events.js';
