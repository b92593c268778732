import type { ExternalTask, ExternalTaskState } from '../model/index.js';

/**
 * A filter for {@link ExternalTaskRepository.query}; every given field must match. `state` and `topic`
 * take one value or a list of them (a task matches when it has any of them; an empty list matches
 * nothing).
 */
export interface ExternalTaskQuery {
  readonly state?: ExternalTaskState | readonly ExternalTaskState[] | undefined;
  readonly topic?: string | readonly string[] | undefined;
  readonly tenantId?: string | undefined;
  readonly processModelId?: string | undefined;
  readonly processInstanceId?: string | undefined;
  readonly correlationId?: string | undefined;
  readonly flowNodeInstanceId?: string | undefined;
  /**
   * The worker that most recently locked the task: on a pending task the holder (its lock live or run
   * out), on a final one the worker that reported the outcome.
   */
  readonly workerId?: string | undefined;
  /** Only failed tasks that are (or are not) incidents. */
  readonly incident?: boolean | undefined;
  /**
   * Only pending tasks whose lock holds at the store's time now (`true`: who holds it is `workerId`, until
   * `lockExpirationTime`), or only pending tasks no lock holds (`false`: available or waiting for a retry).
   */
  readonly locked?: boolean | undefined;
  /** Page size, 1 to 1,000. @default 100 */
  readonly limit?: number | undefined;
  /** How many matching tasks to skip. @default 0 */
  readonly offset?: number | undefined;
}

/**
 * One page of a query, in creation order, with the number of all matching tasks.
 * @typeParam Task - The records' type (an api's topic map types them). @default ExternalTask
 */
export interface ExternalTaskPage<Task extends ExternalTask<unknown, unknown> = ExternalTask> {
  readonly tasks: Task[];
  readonly total: number;
}

/** Which counts {@link ExternalTaskRepository.countByTopic} answers. */
export interface TaskCountFilter {
  /** These topics, in this order (a topic without tasks counts zeros). @default every topic with tasks */
  readonly topics?: readonly string[] | undefined;
  /** Only tasks of this tenant. */
  readonly tenantId?: string | undefined;
}

/** How many tasks of one topic are in which state. */
export interface TopicTaskCounts {
  readonly topic: string;
  /** Pending and available now (never locked, lock expired, or retry due). */
  readonly available: number;
  /** Pending and locked by a worker until a time still to come. */
  readonly locked: number;
  /** Pending and waiting for a retry to become due. */
  readonly retrying: number;
  /** Failed, either way: `bpmnErrors + serviceErrors`. */
  readonly failed: number;
  /** Failed with a BPMN error (a business outcome the process may handle). */
  readonly bpmnErrors: number;
  /** Failed with a service (technical) error, incidents included. */
  readonly serviceErrors: number;
  /** Failed because the retries ran out. */
  readonly incidents: number;
  readonly finished: number;
  readonly cancelled: number;
}
