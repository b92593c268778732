import type { ExternalTask } from '../model/index.js';

/**
 * The answer of a write the engine makes on one task ({@link ExternalTaskRepository.setRetries},
 * {@link ExternalTaskRepository.forceUnlock}, {@link ExternalTaskRepository.setPriority}), decided in one
 * atomic step: `ok` with the record after the write, `not-found`, or `gone` when the task is final and
 * the write does not apply to it (`task` is its current record).
 */
export type EngineWriteResult =
  | { readonly status: 'ok'; readonly task: ExternalTask }
  | { readonly status: 'not-found' }
  | { readonly status: 'gone'; readonly task: ExternalTask };

/** The answer of {@link ExternalTaskRepository.setRetries}. */
export type SetRetriesResult = EngineWriteResult;

/** Options of {@link ExternalTaskRepository.setRetries}. */
export interface SetRetriesOptions {
  /**
   * Makes a task no worker holds (an incident it revives, a task waiting for a retry, an available one)
   * available only after this many ms from now, as a service error's retry does (0: due now). A task a
   * worker holds keeps its lock. An integer 0..2^31−1. @default none: a revived incident is available at once
   */
  readonly retryTimeout?: number | undefined;
}

/** Which final tasks {@link ExternalTaskRepository.deleteFinalTasks} deletes: those of a process instance. */
export interface FinalTaskSelector {
  readonly processInstanceId: string;
}
