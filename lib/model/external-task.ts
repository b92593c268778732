/** A value that survives a JSON round trip unchanged: what payloads, results and error details may hold. */
export type JsonValue =
  null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/**
 * The caller of an operation, as the embedding application authenticates it. The default access policy
 * only requires a non-empty string `token`; any other claims are for custom policies.
 */
export interface Identity {
  readonly token?: string | undefined;
  readonly [claim: string]: unknown;
}

/**
 * `pending` until an outcome is reported; `finished`, `failed` and `cancelled` (by the engine) are final.
 * The one way back is {@link ExternalTaskRepository.setRetries} on a failed task that is an incident.
 */
export type ExternalTaskState = 'pending' | 'finished' | 'failed' | 'cancelled';

/** A business error reported with {@link ExternalTaskApi.handleBpmnError}. */
export interface BpmnFailure {
  readonly type: 'bpmn';
  readonly errorCode: string;
  readonly errorMessage?: string;
}

/** A technical error reported with {@link ExternalTaskApi.handleServiceError}. */
export interface ServiceFailure {
  readonly type: 'service';
  readonly errorMessage: string;
  readonly errorDetails?: JsonValue;
}

/** The error stored on a `failed` task. */
export type ExternalTaskFailure = BpmnFailure | ServiceFailure;

/**
 * The task record (spec §2). Records handed out are snapshots: changing one changes nothing in the store,
 * and their `payload`, `result` and `error` are frozen.
 *
 * `Payload` and `Result` let an engine declare the shapes of a topic's payload and result once and use
 * them with {@link ExternalTaskWorker} and {@link ExternalTaskApi.waitForOutcome}. They are declarations,
 * not checks: the store holds whatever JSON was given, so declare the shapes the engine and its workers
 * agree on.
 * @typeParam Payload - The shape of `payload`. @default JsonValue
 * @typeParam Result - The shape of `result`. @default JsonValue
 */
export interface ExternalTask<Payload = JsonValue, Result = JsonValue> {
  readonly id: string;
  readonly topic: string;
  readonly flowNodeInstanceId: string;
  readonly correlationId: string;
  readonly processInstanceId: string;
  readonly processModelId?: string;
  /** The tenant the task belongs to; access scopes ({@link TaskScope}) select by it. */
  readonly tenantId?: string;
  /** The identity the task was created under (kept for the engine; access is decided by scopes). */
  readonly identity?: Identity;
  readonly payload: Payload;
  /** Higher first when handing out tasks; equal priorities go oldest first. */
  readonly priority: number;
  readonly state: ExternalTaskState;
  /** The worker that most recently locked the task. */
  readonly workerId?: string;
  /** Until when that worker's lock holds; absent on tasks never locked and on final tasks. */
  readonly lockExpirationTime?: Date;
  readonly createdAt: Date;
  readonly finishedAt?: Date;
  readonly result?: Result;
  /** On a failed task, the error; on a pending task waiting for a retry, the last error reported. */
  readonly error?: ExternalTaskFailure;
  /** The remaining retry budget, if the task has one (set on create, by a service error or by setRetries). */
  readonly retries?: number;
  /** How many times the task has been locked by a fetch, the current lock included (1 on its first run). */
  readonly attempts: number;
  /** On a pending task after a service error with retries: when it becomes available again. */
  readonly retryAt?: Date;
  /** On a failed task: `true` when it failed because its retries ran out (an incident to resolve). */
  readonly incident?: boolean;
  /** The key the engine created the task with, if any (see {@link NewExternalTask.idempotencyKey}). */
  readonly idempotencyKey?: string;
}

/**
 * What the engine gives {@link ExternalTaskRepository.create}.
 * @typeParam Payload - The shape of `payload`, for an engine that declares it. @default unknown
 */
export interface NewExternalTask<Payload = unknown> {
  readonly topic: string;
  readonly flowNodeInstanceId: string;
  readonly correlationId: string;
  readonly processInstanceId: string;
  readonly processModelId?: string | undefined;
  /** The tenant the task belongs to (1 to 255 characters). */
  readonly tenantId?: string | undefined;
  readonly identity?: Identity | undefined;
  /** Input for the worker; any JSON value. @default null */
  readonly payload?: Payload;
  /** An integer; higher is handed out first. @default 0 */
  readonly priority?: number | undefined;
  /** An initial retry budget (a non-negative integer); none by default. */
  readonly retries?: number | undefined;
  /**
   * Makes creating idempotent (1 to 255 characters, unique in the store): a create with a key a stored
   * task already has — pending or final, until the final-task retention deletes it — stores nothing and
   * answers that task, so an engine that retries after a crash gets the task it created before (and its
   * outcome, if it has one) instead of a second one. The flow node instance id is a natural key.
   */
  readonly idempotencyKey?: string | undefined;
}
