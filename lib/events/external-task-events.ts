import type { ExternalTask, ExternalTaskFailure, JsonValue } from '../model/index.js';

/**
 * The events of {@link ExternalTaskApi.events}, one payload object each. They are derived from the
 * repository's change announcements, so with a shared store every attached process hears every change.
 * Each outcome event (`task:finished`, `task:failed`) fires exactly once per task and facade.
 */
export interface ExternalTaskEvents {
  /** The engine created a task. */
  'task:created': (event: { task: ExternalTask }) => void;
  /** A worker locked a task by fetching it. */
  'task:locked': (event: { task: ExternalTask }) => void;
  /** A worker extended its lock. */
  'task:extended': (event: { task: ExternalTask }) => void;
  /** A worker finished a task with `result`. */
  'task:finished': (event: { task: ExternalTask; result: JsonValue | undefined }) => void;
  /** A worker reported a BPMN or a service error. */
  'task:failed': (event: { task: ExternalTask; error: ExternalTaskFailure }) => void;
}

/** The name of an event of {@link ExternalTaskEvents}. */
export type ExternalTaskEventName = keyof ExternalTaskEvents;
