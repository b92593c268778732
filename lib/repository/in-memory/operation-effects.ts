import type { ExternalTask } from '../../model/index.js';
import type { AvailabilityHint, UnpositionedChange } from '../external-task-repository.js';
import { toSnapshot, type StoredTask } from './stored-task.js';

/** What a write says about its change, besides the record. */
export type ChangeFields = Omit<UnpositionedChange, 'task'>;

/**
 * What one store operation records while it runs, handed out once it is done: its changes, in order, and
 * per topic the one hint it makes (the smallest delay, and how many tasks it is about).
 */
export class OperationEffects {
  readonly changes: UnpositionedChange[] = [];
  private readonly hintsByTopic = new Map<string, AvailabilityHint>();

  /** The hints, one per topic. */
  get hints(): AvailabilityHint[] {
    return [...this.hintsByTopic.values()];
  }

  /** Records a change of `task` (its snapshot now) for the feed; answers another snapshot for the caller. */
  changed(fields: ChangeFields, task: StoredTask): ExternalTask {
    this.changes.push({ ...fields, task: toSnapshot(task) } as UnpositionedChange);
    return toSnapshot(task);
  }

  /** Notes that a task of `topic` becomes available after `delay` ms. */
  hint(topic: string, delay: number): void {
    const known = this.hintsByTopic.get(topic);
    this.hintsByTopic.set(topic, {
      topic,
      delay: known === undefined ? delay : Math.min(known.delay, delay),
      count: (known?.count ?? 0) + 1,
    });
  }
}
