import type { ExternalTask } from '../../model/index.js';
import type { AvailabilityHint, ExternalTaskChangeType } from '../external-task-repository.js';
import type { ChangeLog } from './change-log.js';
import type { StoredTask } from './stored-task.js';
import { changeEntry, taskRecord } from './task-record.js';

/** A hint an operation gathers: mutable until the operation hands it out. */
interface GatheredHint extends AvailabilityHint {
  delay: number;
  count: number;
}

/** Past this many topics, an operation finds a topic's hint through a map instead of a search. */
const searchedHints = 8;

/**
 * What one store operation records while it runs: its changes, each added to the change log at its
 * position as it happens (delivered once the operation is done, discarded if it throws), and per topic
 * the one hint it makes (the smallest delay, and how many tasks it is about). Each change makes the
 * task's one frozen record, which the caller and every subscriber share.
 */
export class OperationEffects {
  /** The hints, one per topic, if there are any; handed out once the operation is done. */
  hints: GatheredHint[] | undefined;
  private hintsByTopic: Map<string, GatheredHint> | undefined;

  /**
   * @param now - the store's time for the whole operation, read once: every time it writes or compares
   * is this one.
   */
  constructor(
    private readonly log: ChangeLog,
    readonly now: number,
  ) {}

  /**
   * Records a change of `type` of `task`, which has just been made, with what its type carries (read from
   * the task: a finish's result, a failure's error and incident); answers its record.
   */
  changed(type: ExternalTaskChangeType, task: StoredTask): ExternalTask {
    const record = taskRecord(task);
    this.log.add(changeEntry(type, this.log.nextPosition, record, task), task);
    return record;
  }

  /** Notes that a task of `topic` becomes available after `delay` ms. */
  hint(topic: string, delay: number): void {
    const known = this.hintOf(topic);
    if (known === undefined) {
      const hint: GatheredHint = { topic, delay, count: 1 };
      if (this.hints === undefined) this.hints = [hint];
      else this.hints.push(hint);
      this.hintsByTopic?.set(topic, hint);
      return;
    }
    if (delay < known.delay) known.delay = delay;
    known.count++;
  }

  private hintOf(topic: string): GatheredHint | undefined {
    const { hints } = this;
    if (hints === undefined) return undefined;
    if (this.hintsByTopic !== undefined) return this.hintsByTopic.get(topic);
    for (let index = hints.length - 1; index >= 0; index--) {
      if (hints[index]!.topic === topic) return hints[index];
    }
    if (hints.length >= searchedHints) this.hintsByTopic = new Map(hints.map((hint) => [hint.topic, hint]));
    return undefined;
  }
}
