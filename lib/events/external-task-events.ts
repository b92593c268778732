import type { ExternalTask, ExternalTaskFailure } from '../model/index.js';

/**
 * The events of {@link ExternalTaskApi.events}, one payload object each. Listeners may be async; a
 * rejection is reported to the logger like a throw. They are derived from the
 * repository's change announcements, so with a shared store every attached process hears every change.
 * Each outcome event (`task:finished`, `task:failed`, `task:cancelled`) fires exactly once per outcome:
 * once per task, unless the engine brings an incident back with `setRetries` and it fails again.
 * @typeParam Task - The records the events carry: for an api typed by a topic map, the union of its
 * topics' records, which `task.topic` narrows. @default ExternalTask
 */
export interface ExternalTaskEvents<Task extends ExternalTask<unknown, unknown> = ExternalTask> {
  /** The engine created a task. */
  'task:created': (event: { task: Task }) => void;
  /** A worker locked a task by fetching it. */
  'task:locked': (event: { task: Task }) => void;
  /** A worker extended its lock. */
  'task:extended': (event: { task: Task }) => void;
  /** A worker gave a task back without an outcome, or the engine took it with `forceUnlock`; it is available again. */
  'task:unlocked': (event: { task: Task }) => void;
  /**
   * A lock ran out without an outcome (`task.workerId` names the worker). Noticed when the store next
   * looks at the topic — at the latest when a waiting long poll wakes for it.
   */
  'task:lockExpired': (event: { task: Task }) => void;
  /** A service error with retries left the task pending until `task.retryAt`. */
  'task:retryScheduled': (event: { task: Task; error: ExternalTaskFailure }) => void;
  /** A scheduled retry came due; the task is available again (noticed like `task:lockExpired`). */
  'task:retryDue': (event: { task: Task }) => void;
  /** The engine set a task's retries; an incident it resolved is pending again. */
  'task:retriesSet': (event: { task: Task }) => void;
  /** The engine changed the priority of a pending task. */
  'task:prioritySet': (event: { task: Task }) => void;
  /** A worker finished a task with `result`. */
  'task:finished': (event: { task: Task; result: Task['result'] }) => void;
  /** A worker reported a BPMN or a service error; `incident` when the task's retries ran out. */
  'task:failed': (event: { task: Task; error: ExternalTaskFailure; incident: boolean }) => void;
  /** The engine cancelled a pending task. */
  'task:cancelled': (event: { task: Task }) => void;
}

/** The name of an event of {@link ExternalTaskEvents}. */
export type ExternalTaskEventName = keyof ExternalTaskEvents;
