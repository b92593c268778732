import type { ExternalTask, Identity } from '../model/index.js';
import type { TopicClaim } from '../repository/index.js';

/**
 * The options form of a fetch: several topics, each with its own lock duration, claimed in one step.
 * @typeParam Topic - The topic names a typed api knows. @default string
 */
export interface FetchAndLockOptions<Topic extends string = string> {
  readonly workerId: string;
  /** 1 to 100 distinct topics. */
  readonly topics: readonly (TopicClaim & { readonly topicName: Topic })[];
  /** 1 to 1,000. */
  readonly maxTasks: number;
  /** How long to wait when nothing is available: 0 to 30 minutes. @default 0 (answer at once) */
  readonly longPollingTimeout?: number | undefined;
  /** Ends a waiting poll at once with `[]`. */
  readonly signal?: AbortSignal | undefined;
}

/** One topic of a fetch in the options form: its name and lock duration. */
export type FetchTopic = FetchAndLockOptions['topics'][number];

/** The optional trailing options of a service error. */
export interface ServiceErrorOptions {
  /**
   * The retries left after this failure (absolute, as the caller decides). Above 0 the task returns to
   * `pending`, unlocked, and becomes available again after `retryTimeout`; 0 fails it as an incident.
   */
  readonly retries?: number | undefined;
  /** Milliseconds until the retry becomes due. @default 0 */
  readonly retryTimeout?: number | undefined;
}

/**
 * The worker-facing operations (spec §3). The in-process {@link ExternalTaskApi} implements it, and so
 * does any remote client, so a worker works the same against either.
 * @typeParam Task - The records a fetch answers: for an api typed by a topic map, the union of its
 * topics' records ({@link TaskOf}), whose `topic` names the topics a fetch may ask for.
 * @default ExternalTask
 */
export interface ExternalTaskService<Task extends ExternalTask<unknown, unknown> = ExternalTask> {
  /**
   * Whether the service was closed, so that no fetch will ever hand out a task again; a worker then stops.
   * Optional: a client that cannot tell leaves it out.
   */
  readonly isClosed?: boolean | undefined;
  /** Claims up to `maxTasks` tasks of one topic, waiting up to `longPollingTimeout` ms for one. */
  fetchAndLockExternalTasks(
    identity: Identity | undefined,
    workerId: string,
    topicName: Task['topic'],
    maxTasks: number,
    longPollingTimeout: number,
    lockDuration: number,
  ): Promise<Task[]>;
  /** Claims across several topics in one atomic step; see {@link FetchAndLockOptions}. */
  fetchAndLock(identity: Identity | undefined, options: FetchAndLockOptions<Task['topic']>): Promise<Task[]>;
  /** Sets the worker's lock to now + `additionalDuration` ms. */
  extendLock(
    identity: Identity | undefined,
    workerId: string,
    externalTaskId: string,
    additionalDuration: number,
  ): Promise<void>;
  /** Finishes the task with `result` (any JSON value, or `undefined` for none). */
  finishExternalTask(
    identity: Identity | undefined,
    workerId: string,
    externalTaskId: string,
    result: unknown,
  ): Promise<void>;
  /** Fails the task with a business error the process can catch with a BPMN error boundary event. */
  handleBpmnError(
    identity: Identity | undefined,
    workerId: string,
    externalTaskId: string,
    errorCode: string,
    errorMessage?: string,
  ): Promise<void>;
  /** Fails the task with a technical error, or schedules a retry (see {@link ServiceErrorOptions}). */
  handleServiceError(
    identity: Identity | undefined,
    workerId: string,
    externalTaskId: string,
    errorMessage: string,
    errorDetails?: unknown,
    options?: ServiceErrorOptions,
  ): Promise<void>;
  /** Gives a held task back without an outcome: unlocked and available to any worker at once. */
  unlock(identity: Identity | undefined, workerId: string, externalTaskId: string): Promise<void>;
}

/** The operations a worker and the HTTP handlers call on an {@link ExternalTaskService}. */
const workerOperations = [
  'fetchAndLock',
  'extendLock',
  'finishExternalTask',
  'handleBpmnError',
  'handleServiceError',
  'unlock',
] as const;

/**
 * Checks that `service` has the operations a worker and the HTTP handlers call.
 * @throws TypeError naming `owner` and the operations it lacks
 */
export function requireServiceOperations(owner: string, service: unknown): void {
  const missing = workerOperations.filter(
    (operation) => typeof (service as Partial<ExternalTaskService> | null)?.[operation] !== 'function',
  );
  if (missing.length > 0) {
    throw new TypeError(`${owner}: api must be an ExternalTaskService; it lacks ${missing.join(', ')}.`);
  }
}
