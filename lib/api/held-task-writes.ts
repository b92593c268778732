import type { Identity } from '../model/index.js';
import type {
  ConditionalWriteResult,
  ExternalTaskRepository,
  HeldTaskRequest,
  TaskOutcome,
} from '../repository/index.js';
import { requireString } from '../validation/index.js';
import { scopeFor, type AccessPolicy } from './access-policy.js';
import type { ServiceErrorOptions } from './external-task-service.js';
import { bpmnErrorOutcome, finishedOutcome, serviceErrorOutcome } from './reported-outcomes.js';
import { validateAdditionalDuration } from './request-validation.js';
import { throwUnlessWritten } from './write-refusals.js';

/**
 * The facade's writes on a task the worker must hold — extend its lock, give it back, finish it, fail
 * it. Each checks the ids, asks the access policy what the caller may see, checks its own arguments (in
 * that order), makes one conditional write and turns a refusal into its typed error (404, 410, 423).
 * With a policy that has no `scope`, all of it runs in the caller's turn, up to the store's answer.
 * Requests are written out as literals, one shape with a scope and one without.
 */
export class HeldTaskWrites {
  constructor(
    private readonly repository: ExternalTaskRepository,
    private readonly accessPolicy: AccessPolicy,
  ) {}

  extendLock(
    identity: Identity | undefined,
    workerId: string,
    externalTaskId: string,
    additionalDuration: number,
  ): Promise<void> {
    return this.write(identity, workerId, externalTaskId, ({ externalTaskId, workerId, scope }) => {
      const lockDuration = validateAdditionalDuration(additionalDuration);
      return this.repository.extendLock(
        scope === undefined
          ? { externalTaskId, workerId, lockDuration }
          : { externalTaskId, workerId, scope, lockDuration },
      );
    });
  }

  unlock(identity: Identity | undefined, workerId: string, externalTaskId: string): Promise<void> {
    return this.write(identity, workerId, externalTaskId, (target) => this.repository.unlock(target));
  }

  finish(
    identity: Identity | undefined,
    workerId: string,
    externalTaskId: string,
    result: unknown,
  ): Promise<void> {
    return this.write(identity, workerId, externalTaskId, (target) =>
      this.complete(target, finishedOutcome(result)),
    );
  }

  bpmnError(
    identity: Identity | undefined,
    workerId: string,
    externalTaskId: string,
    errorCode: string,
    errorMessage: string | undefined,
  ): Promise<void> {
    return this.write(identity, workerId, externalTaskId, (target) =>
      this.complete(target, bpmnErrorOutcome(errorCode, errorMessage)),
    );
  }

  serviceError(
    identity: Identity | undefined,
    workerId: string,
    externalTaskId: string,
    errorMessage: string,
    errorDetails: unknown,
    options: ServiceErrorOptions | undefined,
  ): Promise<void> {
    return this.write(identity, workerId, externalTaskId, (target) =>
      this.complete(target, serviceErrorOutcome(errorMessage, errorDetails, options)),
    );
  }

  private complete(
    { externalTaskId, workerId, scope }: HeldTaskRequest,
    outcome: TaskOutcome,
  ): Promise<ConditionalWriteResult> {
    return this.repository.complete(
      scope === undefined
        ? { externalTaskId, workerId, outcome }
        : { externalTaskId, workerId, scope, outcome },
    );
  }

  /**
   * Checks the ids, then makes one conditional write on a task the worker must hold, and turns a refusal
   * into its typed error. Throws what a check throws.
   */
  private write(
    identity: Identity | undefined,
    workerId: string,
    externalTaskId: string,
    write: (target: HeldTaskRequest) => Promise<ConditionalWriteResult>,
  ): Promise<void> {
    requireString('workerId', workerId);
    requireString('externalTaskId', externalTaskId);
    if (!this.accessPolicy.scope)
      return written(write({ externalTaskId, workerId }), externalTaskId, workerId);
    return scopeFor(this.accessPolicy, identity).then((scope) =>
      written(
        write(scope === undefined ? { externalTaskId, workerId } : { externalTaskId, workerId, scope }),
        externalTaskId,
        workerId,
      ),
    );
  }
}

/** Resolves once `answer` says the write was made; rejects with the typed error of its refusal. */
function written(
  answer: Promise<ConditionalWriteResult>,
  externalTaskId: string,
  workerId: string,
): Promise<void> {
  return answer.then((result) => throwUnlessWritten(result, externalTaskId, workerId));
}
