import type { ExternalTask, JsonValue } from '../model/index.js';

/** What a handler gets besides the task. */
export interface TaskContext {
  /**
   * Aborts when the worker gives up on the task: its lock was lost (extending answered 404, 410 or 423)
   * or the worker stopped and the grace period ran out. The reason is a {@link TaskAbortedError}. Pass it
   * on to whatever the handler waits for (`fetch(url, { signal })`); once it aborts, the handler's result
   * or error is dropped, so it may as well end.
   */
  readonly signal: AbortSignal;
  /**
   * Extends the task's lock at once to now + `duration` ms (default: the worker's `lockDuration`) and
   * restarts the automatic extension's cadence. The worker extends automatically anyway; call this only
   * before a step known to take longer than the lock. Rejects with the API's error; a 404, 410 or 423 also
   * aborts `signal`.
   */
  readonly extendLock: (duration?: number) => Promise<void>;
}

/**
 * The user's code for one task. Whatever it returns (or resolves to) finishes the task as its result —
 * any JSON value, `undefined` included. Throwing a {@link BpmnError} reports a BPMN error; throwing
 * anything else reports a service error with the message and `{ name, stack }` as details.
 * @typeParam Payload - The payload shape the engine declares for the topic (see {@link ExternalTask}).
 * @default JsonValue
 * @typeParam Result - What the handler must return or resolve to. @default unknown (anything)
 * @typeParam Task - The record the handler gets: on an api typed by a topic map, the union of its
 * topics' records ({@link TaskOf}), which `task.topic` narrows. @default ExternalTask<Payload>
 */
export type ExternalTaskHandler<Payload = JsonValue, Result = unknown, Task = ExternalTask<Payload>> = (
  task: Task,
  context: TaskContext,
) => Result | PromiseLike<Result>;
