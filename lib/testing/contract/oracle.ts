import type { ExternalTask } from '../../model/index.js';
import type { TopicTaskCounts } from '../../repository/external-task-repository.js';
import { emptyTopicCounts } from '../../repository/topic-counts.js';

// What a store must answer about some records, worked out by brute force over them: the reference the
// randomised cases hold a store's answers against.

export type Counts = Omit<TopicTaskCounts, 'topic'>;

const { topic: _unnamed, ...noCounts } = emptyTopicCounts('');
/** Every count 0: a topic's counts without its name, to spread into the counts a case expects. */
export const zeroCounts: Counts = Object.freeze(noCounts);

/** The counts of some tasks (e.g. one topic's) by brute force over their records at `now`. */
export function countRecords(tasks: readonly ExternalTask[], now: number): Counts {
  const counts = { ...zeroCounts };
  for (const task of tasks) {
    switch (task.state) {
      case 'pending':
        if (task.lockExpirationTime !== undefined && task.lockExpirationTime.getTime() > now) counts.locked++;
        else if (task.retryAt !== undefined && task.retryAt.getTime() > now) counts.retrying++;
        else counts.available++;
        break;
      case 'failed':
        counts.failed++;
        if (task.error?.type === 'bpmn') counts.bpmnErrors++;
        else counts.serviceErrors++;
        if (task.incident === true) counts.incidents++;
        break;
      case 'finished':
        counts.finished++;
        break;
      case 'cancelled':
        counts.cancelled++;
        break;
    }
  }
  return counts;
}

/** What {@link ExternalTaskRepository.msUntilNextAvailable} must answer for these records at `now`. */
export function msUntilNextAvailableOf(tasks: readonly ExternalTask[], now: number): number | undefined {
  let earliest: number | undefined;
  for (const task of tasks) {
    if (task.state !== 'pending') continue;
    const at = Math.max(task.lockExpirationTime?.getTime() ?? now, task.retryAt?.getTime() ?? now);
    if (earliest === undefined || at < earliest) earliest = at;
  }
  return earliest === undefined ? undefined : Math.max(0, earliest - now);
}
