import type { ValidNewTask } from '../repository-arguments.js';
import { FinalTaskRetention } from './final-task-retention.js';
import { newStoredTask, type StoredTask } from './stored-task.js';
import { TaskIndexes } from './task-indexes.js';
import { TopicQueues } from './topic-queues.js';

/**
 * Every task of the in-memory store and what finds it: by id, by idempotency key, per topic in its
 * queues, and per queryable field in the secondary indexes. The one place that changes a task's state,
 * worker or priority, so that every index stays true; a task's final-state retention is kept here too.
 */
export class TaskTable {
  readonly indexes = new TaskIndexes({ all: () => this.all(), pending: (topic) => this.pending(topic) });
  private readonly tasks = new Map<string, StoredTask>();
  private readonly keys = new Map<string, StoredTask>();
  private readonly topics = new Map<string, TopicQueues>();
  private readonly retention: FinalTaskRetention;
  private sequence = 0;

  /** @param finalTaskRetention - how long a final task is kept after it ended, in ms (`Infinity`: forever). */
  constructor(finalTaskRetention: number) {
    this.retention = new FinalTaskRetention(finalTaskRetention);
  }

  get(externalTaskId: string): StoredTask | undefined {
    return this.tasks.get(externalTaskId);
  }

  /** The stored task created with `idempotencyKey`. */
  withKey(idempotencyKey: string): StoredTask | undefined {
    return this.keys.get(idempotencyKey);
  }

  /** Every task, in no particular order. */
  all(): Iterable<StoredTask> {
    return this.tasks.values();
  }

  /** Stores a new pending task, available at once. */
  add(valid: ValidNewTask, id: string, now: number): StoredTask {
    const task = newStoredTask(valid, id, now, this.sequence++);
    this.tasks.set(task.id, task);
    if (task.idempotencyKey !== undefined) this.keys.set(task.idempotencyKey, task);
    this.indexes.add(task);
    this.queuesOf(task.topic).makeReady(task);
    return task;
  }

  /** The queues of a topic that has (or had) tasks. */
  topic(topic: string): TopicQueues | undefined {
    return this.topics.get(topic);
  }

  /** Every topic that has tasks now (not one whose tasks were all deleted), in the order of its first task. */
  topicNamesWithTasks(): string[] {
    return [...this.topics].filter(([, queues]) => queues.hasTasks()).map(([topic]) => topic);
  }

  /** The queues of a topic, made empty if it had none. */
  queuesOf(topic: string): TopicQueues {
    let queues = this.topics.get(topic);
    if (!queues) {
      queues = new TopicQueues();
      this.topics.set(topic, queues);
    }
    return queues;
  }

  /** The pending tasks of `topic`, or of every topic: what its queues hold. */
  private pending(topic: string | undefined): { size: number; tasks: () => StoredTask[] } {
    const queues = topic === undefined ? [...this.topics.values()] : [this.topics.get(topic) ?? []].flat();
    return {
      size: queues.reduce((sum, topicQueues) => sum + topicQueues.pendingCount, 0),
      tasks: () => queues.flatMap((topicQueues) => topicQueues.pendingTasks()),
    };
  }

  setWorker(task: StoredTask, workerId: string | undefined): void {
    const previous = task.workerId;
    task.workerId = workerId;
    this.indexes.refileWorker(task, previous);
  }

  /** Gives a pending task a new priority and its new place in its queue. */
  setPriority(task: StoredTask, priority: number): void {
    const queues = this.queuesOf(task.topic);
    const queue = task.queue;
    queues.detach(task);
    task.priority = priority;
    if (queue === 'locked') queues.makeLocked(task);
    else if (queue === 'delayed') queues.makeDelayed(task);
    else queues.makeReady(task);
  }

  /**
   * Moves a pending task to a final state — and out of the table at once where final tasks are not kept
   * (a retention of 0), unless it is an incident.
   */
  end(task: StoredTask, state: 'finished' | 'failed' | 'cancelled', now: number): void {
    const queues = this.queuesOf(task.topic);
    queues.detach(task);
    task.finishedAt = now;
    task.state = state;
    if (this.retention.forgetsAtEnd && task.incident !== true) return this.unfile(task);
    this.indexes.addFinal(task);
    queues.countFinal(task, 1);
    this.retention.track(task);
  }

  /** Brings a final task back to pending (an incident revived), out of its topic's final counts. */
  revive(task: StoredTask): void {
    this.queuesOf(task.topic).countFinal(task, -1);
    this.indexes.removeFinal(task);
    task.incident = undefined;
    task.finishedAt = undefined;
    this.setWorker(task, undefined); // a fresh start: the worker that failed it holds nothing
    task.state = 'pending';
  }

  /** Removes a final task: from the table, its indexes and its topic's counts. */
  forget(task: StoredTask): void {
    // A task that ended twice in the same millisecond (an incident revived and failed again) has two
    // retention entries; only the first may count.
    if (this.tasks.get(task.id) !== task) return;
    this.unfile(task);
    this.queuesOf(task.topic).countFinal(task, -1);
  }

  /** Takes `task` out of the table, its key and its indexes (not out of its topic's counts). */
  private unfile(task: StoredTask): void {
    this.tasks.delete(task.id);
    if (task.idempotencyKey !== undefined) this.keys.delete(task.idempotencyKey);
    this.indexes.remove(task);
  }

  /** Forgets the final tasks whose retention has run out by `now`. */
  forgetExpired(now: number): void {
    this.retention.forgetExpired(now, this.forgetTask);
  }

  private readonly forgetTask = (task: StoredTask): void => this.forget(task);
}
