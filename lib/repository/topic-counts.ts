import type { TopicTaskCounts } from './external-task-repository.js';

/**
 * The counts of a topic without tasks: every count 0. A fresh object on each call, so a store may
 * count into it.
 *
 * @example
 * ```ts
 * emptyTopicCounts('send-invoice'); // { topic: 'send-invoice', available: 0, locked: 0, …, cancelled: 0 }
 * ```
 */
export function emptyTopicCounts(topic: string): TopicTaskCounts {
  return {
    topic,
    available: 0,
    locked: 0,
    retrying: 0,
    failed: 0,
    bpmnErrors: 0,
    serviceErrors: 0,
    incidents: 0,
    finished: 0,
    cancelled: 0,
  };
}
