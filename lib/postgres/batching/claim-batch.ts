import type { ExternalTask } from '../../model/index.js';
import type { ClaimRequest, TaskScope, TopicClaim } from '../../repository/index.js';
import { validateScope } from '../../repository/repository-arguments.js';
import { BadRequestError } from '../../errors/index.js';
import { describeValue, limits, requireInteger } from '../../validation/index.js';
import type { ChangeRecorder } from '../feed/local-offers.js';
import { recordedTasks, type Recording } from '../sql/record-changes.js';
import { toTask } from '../task-record.js';
import { isRefusedValue, StatementBatcher } from './statement-batcher.js';
import type { StatementSharing } from './statement-sharing.js';

/**
 * One caller's claim, checked (so that one caller's bad arguments cannot fail a statement it shares),
 * with the time it was asked at. Its topics are in a canonical order (the first lock duration of a topic
 * named twice wins, as in a claim alone), so that claims of the same topics share a shape.
 */
export interface ClaimCall {
  /** The injected clock's time at the call, or null for the database's. */
  readonly now: number | null;
  readonly workerId: string;
  readonly topics: readonly TopicClaim[];
  readonly maxTasks: number;
  readonly scope: TaskScope | undefined;
}

/**
 * Checks what could make a shared statement fail (the facade checks the rest: the repository takes any
 * topic name, as the in-memory store does) and puts the claim in the form a batch reads.
 */
export function claimCall(request: ClaimRequest, now: number | null): ClaimCall {
  const topics = new Map<string, number>();
  for (const [i, topic] of request.topics.entries()) {
    const topicName = requireText(`topics[${i}].topicName`, topic.topicName);
    const lockDuration = requireInteger(
      `topics[${i}].lockDuration`,
      topic.lockDuration,
      0,
      limits.maxDuration,
    );
    if (!topics.has(topicName)) topics.set(topicName, lockDuration);
  }
  return {
    now,
    workerId: requireText('workerId', request.workerId),
    topics: [...topics]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([topicName, lockDuration]) => ({ topicName, lockDuration })),
    maxTasks: requireInteger('maxTasks', request.maxTasks, 0, limits.maxTasks),
    scope: validateScope(request.scope),
  };
}

/** A string of any length (a statement parameter of type text). */
export function requireText(argument: string, value: unknown): string {
  if (typeof value !== 'string') {
    throw new BadRequestError(argument, `${argument} must be a string, got ${describeValue(value)}.`);
  }
  return value;
}

/** Claims that may share a statement: the same time, topics with their lock durations, and scope. */
function shapeOf(call: ClaimCall): string {
  return JSON.stringify([
    call.now,
    call.topics.map((topic) => [topic.topicName, topic.lockDuration]),
    call.scope?.tenantIds ?? null,
    call.scope?.processModelIds ?? null,
  ]);
}

/**
 * The claims of one process, sharing statements: claims of one shape that queue while a statement is in
 * flight go together in the next, which claims the sum of their maxTasks and deals the tasks out in
 * hand-out order (see `claimTasks`). Each caller gets its own tasks, at most its maxTasks.
 *
 * Claims of one shape are never in two statements at once. A claim statement locks the first `$4`
 * candidates of each topic in each of its two branches and keeps the best `$4` of them; the rest stay
 * locked until it commits, and a claim beside it skips them (`SKIP LOCKED`). So two statements of one
 * burst, split by `claimTasks` of the sharing, would hand out half the tasks of two topics and nothing to
 * the callers of the second statement, though the other half was free. The second waits for the first
 * instead, and runs while the first's callers finish theirs.
 */
export function claimBatcher(
  recorder: ChangeRecorder,
  statement: string,
  sharing: StatementSharing,
): StatementBatcher<ClaimCall, ExternalTask[]> {
  return new StatementBatcher<ClaimCall, ExternalTask[]>({
    shapeOf,
    weightOf: (call) => call.maxTasks,
    maxWeight: sharing.claimTasks,
    maxInFlight: sharing.inFlight,
    maxInFlightPerShape: 1,
    mayBeOneRequestsFault: isRefusedValue,
    run: async (batch) => {
      const [{ now, topics, scope }] = batch as [ClaimCall];
      const rows = await recorder.record<{ taker: number; id: string } & Recording>(statement, [
        now,
        topics.map((topic) => topic.topicName),
        topics.map((topic) => topic.lockDuration),
        batch.reduce((sum, call) => sum + call.maxTasks, 0),
        batch.map((call) => call.workerId),
        batch.map((call) => call.maxTasks),
        scope?.tenantIds ?? null,
        scope?.processModelIds ?? null,
      ]);
      // The claimed tasks' records are those of the `locked` changes, in the rows' order.
      const records = recordedTasks(rows, 'locked');
      if (records.length !== rows.length) {
        throw new Error(`A claim statement answered ${rows.length} tasks and recorded ${records.length}.`);
      }
      const answers = batch.map((): ExternalTask[] => []);
      rows.forEach((row, i) => {
        const answer = answers[row.taker - 1];
        if (answer === undefined) throw new Error(`A claim statement dealt a task to request ${row.taker}.`);
        const record = records[i]!;
        if (record.id !== row.id) throw new Error(`A claim statement recorded ${record.id} for ${row.id}.`);
        answer.push(toTask(record));
      });
      return answers;
    },
  });
}
