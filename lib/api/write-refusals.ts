import { GoneError, LockedError, NotFoundError } from '../errors/index.js';
import type { ExternalTaskState } from '../model/index.js';
import type { ConditionalWriteResult } from '../repository/index.js';

/**
 * Turns a store's refusal of a conditional write into its typed error — 404 `not-found`, 410 `gone`,
 * 423 `locked` — so that every store yields the same errors; `ok` passes.
 */
export function throwUnlessWritten(
  written: ConditionalWriteResult,
  externalTaskId: string,
  workerId: string,
): void {
  switch (written.status) {
    case 'ok':
      return;
    case 'not-found':
      throw new NotFoundError(externalTaskId);
    case 'gone':
      throw new GoneError(externalTaskId, written.task.state as Exclude<ExternalTaskState, 'pending'>);
    case 'locked':
      throw new LockedError(externalTaskId, workerId, written.task.workerId, written.task.lockExpirationTime);
  }
}
