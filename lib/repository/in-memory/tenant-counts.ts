import type { TopicTaskCounts } from '../external-task-repository.js';
import { emptyTopicCounts } from '../topic-counts.js';
import type { StoredTask } from './stored-task.js';
import { countFinal, pendingState } from './topic-queues.js';

/**
 * Counts one tenant's tasks per topic, classifying each (there are no per-tenant queues): the topics
 * named, with zeros where the tenant has none, or every topic the tenant has tasks in.
 */
export function countTenantTasks(
  tasks: Iterable<StoredTask>,
  topics: readonly string[] | undefined,
  now: number,
): TopicTaskCounts[] {
  const counts = new Map<string, Record<string, number>>();
  const countsOf = (topic: string): Record<string, number> => {
    let entry = counts.get(topic);
    if (!entry) {
      entry = emptyTopicCounts(topic) as unknown as Record<string, number>;
      counts.set(topic, entry);
    }
    return entry;
  };
  for (const topic of topics ?? []) countsOf(topic);
  for (const task of tasks) {
    if (topics && !topics.includes(task.topic)) continue;
    const entry = countsOf(task.topic);
    if (task.state !== 'pending') countFinal(entry, task, 1);
    else {
      const state = pendingState(task, now);
      entry[state] = (entry[state] as number) + 1;
    }
  }
  return [...counts.values()] as unknown as TopicTaskCounts[];
}
