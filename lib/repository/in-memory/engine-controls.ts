import { requireString } from '../../validation/index.js';
import type { EngineWriteResult, FinalTaskSelector, SetRetriesOptions } from '../external-task-repository.js';
import {
  validateFinalTaskSelector,
  validateSetPriority,
  validateSetRetries,
} from '../repository-arguments.js';
import type { OperationEffects } from './operation-effects.js';
import { taskRecord } from './task-record.js';
import type { TaskTable } from './task-table.js';

/**
 * The in-memory store's engine controls, each run inside one store operation (so atomic): the checks and
 * the write of one step, announced through `effects`.
 */

/** See {@link ExternalTaskRepository.setRetries}. */
export function setRetries(
  table: TaskTable,
  effects: OperationEffects,
  externalTaskId: string,
  retriesArgument: number,
  options: SetRetriesOptions | undefined,
): EngineWriteResult {
  const { retries, retryTimeout } = validateSetRetries(externalTaskId, retriesArgument, options);
  const task = table.get(externalTaskId);
  if (!task) return { status: 'not-found' };
  const revive = task.state === 'failed' && task.incident === true && retries > 0;
  if (!revive && task.state !== 'pending' && task.incident !== true) {
    return { status: 'gone', task: taskRecord(task) };
  }
  const queues = table.queuesOf(task.topic);
  if (revive) {
    table.revive(task);
    queues.makeReady(task);
  }
  task.retries = retries;
  if (retryTimeout !== undefined && task.state === 'pending' && task.workerId === undefined) {
    task.retryAt = effects.now + retryTimeout;
    queues.makeDelayed(task);
    effects.hint(task.topic, retryTimeout);
  } else if (revive) {
    effects.hint(task.topic, 0);
  }
  return { status: 'ok', task: effects.changed('retriesSet', task) };
}

/** See {@link ExternalTaskRepository.forceUnlock}. */
export function forceUnlock(
  table: TaskTable,
  effects: OperationEffects,
  externalTaskId: string,
): EngineWriteResult {
  requireString('externalTaskId', externalTaskId);
  const task = table.get(externalTaskId);
  if (!task) return { status: 'not-found' };
  if (task.state !== 'pending') return { status: 'gone', task: taskRecord(task) };
  if (task.workerId === undefined) return { status: 'ok', task: taskRecord(task) };
  table.setWorker(task, undefined);
  task.lockExpirationTime = undefined;
  table.queuesOf(task.topic).makeReady(task);
  effects.hint(task.topic, 0);
  return { status: 'ok', task: effects.changed('unlocked', task) };
}

/** See {@link ExternalTaskRepository.setPriority}. */
export function setPriority(
  table: TaskTable,
  effects: OperationEffects,
  externalTaskId: string,
  priority: number,
): EngineWriteResult {
  validateSetPriority(externalTaskId, priority);
  const task = table.get(externalTaskId);
  if (!task) return { status: 'not-found' };
  if (task.state !== 'pending') return { status: 'gone', task: taskRecord(task) };
  table.setPriority(task, priority);
  return { status: 'ok', task: effects.changed('prioritySet', task) };
}

/** See {@link ExternalTaskRepository.deleteFinalTasks}. */
export function deleteFinalTasks(table: TaskTable, selector: FinalTaskSelector): number {
  const { processInstanceId } = validateFinalTaskSelector(selector);
  let deleted = 0;
  for (const task of [...table.indexes.find('processInstanceId', processInstanceId)]) {
    if (task.state === 'pending') continue;
    table.forget(task);
    deleted++;
  }
  return deleted;
}
