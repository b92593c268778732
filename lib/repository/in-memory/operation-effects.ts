import type { ExternalTask } from '../../model/index.js';
import type { AvailabilityHint, UnpositionedChange } from '../external-task-repository.js';
import { taskRecord, type StoredTask } from './stored-task.js';

/** What a write says about its change, besides the record (per type of change). */
export type ChangeFields = UnpositionedChange extends infer Change
  ? Change extends UnpositionedChange
    ? Omit<Change, 'task'>
    : never
  : never;

/** A change an operation made: what the write says about it, and the task's record after it. */
export interface EffectChange {
  readonly fields: ChangeFields;
  readonly task: ExternalTask;
}

/**
 * What one store operation records while it runs, handed out once it is done: its changes, in order, and
 * per topic the one hint it makes (the smallest delay, and how many tasks it is about).
 */
export class OperationEffects {
  readonly changes: EffectChange[] = [];
  private readonly hintsByTopic = new Map<string, { topic: string; delay: number; count: number }>();

  /** The hints, one per topic. */
  get hints(): AvailabilityHint[] {
    return [...this.hintsByTopic.values()];
  }

  /** Records a change of `task` for the feed; answers its record, the one the feed hands out too. */
  changed(fields: ChangeFields, task: StoredTask): ExternalTask {
    const record = taskRecord(task);
    this.changes.push({ fields, task: record });
    return record;
  }

  /** Notes that a task of `topic` becomes available after `delay` ms. */
  hint(topic: string, delay: number): void {
    const known = this.hintsByTopic.get(topic);
    if (known === undefined) this.hintsByTopic.set(topic, { topic, delay, count: 1 });
    else {
      known.delay = Math.min(known.delay, delay);
      known.count++;
    }
  }
}
