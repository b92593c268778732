import { isCancellation } from './lock-keeper.js';
import type { WorkerEvent } from './worker-events.js';

/**
 * What a worker has done since it was constructed (restarts included), counted from its own events, so
 * the counts and the events always agree. For operators: export them to a metrics system, or log them.
 * The outcomes of handler runs are `finished`, `bpmnErrors`, `serviceErrors`, `lockLosses`, `cancelled`
 * and `abortedOnStop`; a run whose report failed counts in `reportFailures` (and, when the worker then
 * recorded a service error instead, in `serviceErrors` too).
 */
export interface WorkerStats {
  /** Tasks fetches handed to the worker (`worker:fetched`). */
  readonly fetched: number;
  /** Fetches that failed and were tried again after a back-off (`worker:fetchFailed`). */
  readonly fetchFailures: number;
  /** Results recorded: the tasks finished (`worker:task:finished`). */
  readonly finished: number;
  /** Handlers that threw a `BpmnError`, recorded as a BPMN error. */
  readonly bpmnErrors: number;
  /** Handlers that threw anything else, recorded as a service error: `retried` + `incidents` + plain failures. */
  readonly serviceErrors: number;
  /** Service errors recorded with retries left: the task is tried again after the delay. */
  readonly retried: number;
  /** Service errors that used up the task's retries: the task failed as an incident. */
  readonly incidents: number;
  /** Handlers aborted because the lock was lost (404, 410 or 423 to an extension; not a cancellation). */
  readonly lockLosses: number;
  /** Handlers aborted because the engine cancelled their task. */
  readonly cancelled: number;
  /** Handlers still running when `stop()`'s grace period ran out, aborted. */
  readonly abortedOnStop: number;
  /** Reports of an outcome that the API refused or that failed (`worker:error` with context `report`). */
  readonly reportFailures: number;
}

type Counts = { -readonly [K in keyof WorkerStats]: number };

/** Counts a worker's events into {@link WorkerStats}. */
export class WorkerStatsCounter {
  private readonly counts: Counts = {
    fetched: 0,
    fetchFailures: 0,
    finished: 0,
    bpmnErrors: 0,
    serviceErrors: 0,
    retried: 0,
    incidents: 0,
    lockLosses: 0,
    cancelled: 0,
    abortedOnStop: 0,
    reportFailures: 0,
  };

  /** Counts what `event` says happened. */
  count({ name, payload }: WorkerEvent): void {
    const counts = this.counts;
    switch (name) {
      case 'worker:fetched':
        counts.fetched += payload.count;
        return;
      case 'worker:fetchFailed':
        counts.fetchFailures++;
        return;
      case 'worker:task:finished':
        counts.finished++;
        return;
      case 'worker:task:failed':
        if (payload.type === 'bpmn') counts.bpmnErrors++;
        else counts.serviceErrors++;
        if (payload.incident) counts.incidents++;
        else if (payload.retry !== undefined && payload.retry.retries > 0) counts.retried++;
        return;
      case 'worker:task:aborted':
        if (payload.reason.code === 'WORKER_STOPPED') counts.abortedOnStop++;
        else if (isCancellation(payload.reason.cause)) counts.cancelled++;
        else counts.lockLosses++;
        return;
      case 'worker:error':
        if (payload.context.type === 'report') counts.reportFailures++;
        return;
      default:
        return;
    }
  }

  /** The counts now, as a frozen snapshot. */
  snapshot(): WorkerStats {
    return Object.freeze({ ...this.counts });
  }
}
