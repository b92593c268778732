import { frozenDate } from '../../model/frozen-record.js';
import type { ExternalTask, ExternalTaskFailure } from '../../model/index.js';
import type {
  ChangePosition,
  ExternalTaskChange,
  ExternalTaskChangeType,
} from '../external-task-repository.js';
import type { StoredTask, TaskProgress } from './stored-task.js';

/** How many of the latest distinct times keep their frozen date (a power of two). */
const rememberedDates = 16;
const dateTimes = new Float64Array(rememberedDates).fill(NaN);
const dates: (Date | undefined)[] = new Array<Date | undefined>(rememberedDates).fill(undefined);

/**
 * A frozen date of `time`. A frozen date cannot change, so records may share one: the dates of the
 * latest times are remembered (one per slot of `time`'s low bits), and the tasks of a batch — created,
 * locked or finished in the same millisecond — share theirs instead of making one each.
 */
function recordDate(time: number): Date {
  const slot = time & (rememberedDates - 1);
  if (dateTimes[slot] === time) return dates[slot] as Date;
  const date = frozenDate(time);
  dateTimes[slot] = time;
  dates[slot] = date;
  return date;
}

type MutableRecord = { -readonly [Field in keyof ExternalTask]: ExternalTask[Field] };

/**
 * Fills a new record's fields, optional ones only when they have a value. Called with `new`, so that V8
 * sizes the object for its fields once (a literal grown field by field gets its fields stored apart,
 * and that store grown again and again); its prototype is `Object.prototype`, so a record is a plain
 * object like any other.
 */
function RecordFields(this: MutableRecord, task: StoredTask, progress: TaskProgress): void {
  this.id = task.id;
  this.topic = task.topic;
  this.flowNodeInstanceId = task.flowNodeInstanceId;
  this.correlationId = task.correlationId;
  this.processInstanceId = task.processInstanceId;
  if (task.processModelId !== undefined) this.processModelId = task.processModelId;
  if (task.tenantId !== undefined) this.tenantId = task.tenantId;
  if (task.identity !== undefined) this.identity = task.identity;
  this.payload = task.payload;
  this.priority = progress.priority;
  this.state = progress.state;
  if (progress.workerId !== undefined) this.workerId = progress.workerId;
  if (progress.lockExpirationTime !== undefined)
    this.lockExpirationTime = recordDate(progress.lockExpirationTime);
  this.createdAt = recordDate(task.createdAt);
  if (progress.finishedAt !== undefined) this.finishedAt = recordDate(progress.finishedAt);
  if (progress.result !== undefined) this.result = progress.result;
  if (progress.error !== undefined) this.error = progress.error;
  if (progress.retries !== undefined) this.retries = progress.retries;
  this.attempts = progress.attempts;
  if (progress.retryAt !== undefined) this.retryAt = recordDate(progress.retryAt);
  if (progress.incident !== undefined) this.incident = progress.incident;
  if (task.idempotencyKey !== undefined) this.idempotencyKey = task.idempotencyKey;
}
RecordFields.prototype = Object.prototype;
const NewRecord = RecordFields as unknown as new (task: StoredTask, progress: TaskProgress) => ExternalTask;

/**
 * The record of `task` — as it is now, or with its `progress` at an earlier change — immutable by
 * construction: frozen, its dates frozen too, its `payload`, `result` and `error` deeply frozen already.
 * Made once per change, one record serves every receiver — the caller, the change feed and each of its
 * subscribers — since none can change it.
 */
export function taskRecord(task: StoredTask, progress: TaskProgress = task): ExternalTask {
  return Object.freeze(new NewRecord(task, progress));
}

/**
 * The frozen feed entry of a change of `type` at `position` whose record is `record`, with what its type
 * carries, read from the task's `progress` at the change: a finish's result, a failure's error and
 * whether it is an incident, the error a retry waits after. Written out per type: an object literal after
 * a spread takes V8's slow path.
 */
export function changeEntry(
  type: ExternalTaskChangeType,
  position: ChangePosition,
  record: ExternalTask,
  progress: TaskProgress,
): ExternalTaskChange {
  switch (type) {
    case 'finished':
      return Object.freeze({ type, position, task: record, result: progress.result });
    case 'failed':
      return Object.freeze({
        type,
        position,
        task: record,
        error: progress.error as ExternalTaskFailure,
        incident: progress.incident === true,
      });
    case 'retryScheduled':
      return Object.freeze({ type, position, task: record, error: progress.error as ExternalTaskFailure });
    default:
      return Object.freeze({ type, position, task: record });
  }
}
