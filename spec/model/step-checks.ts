import { isDeepStrictEqual } from 'node:util';
import { expect } from 'chai';
import type { ExternalTask } from '../../lib/model/index.js';
import { isOutcome } from '../../lib/api/outcome-consumers.js';
import { plainChange, plainRecord, type ModelChange, type ModelTask } from './model-task.js';
import type { ReferenceModel } from './reference-model.js';
import { expectSame } from './model-command.js';
import type { RealSystem } from './real-system.js';

/**
 * What is checked after every step of a run, against the model and against what the store said before:
 * - the store holds exactly the model's tasks, each once, each record equal to the model's;
 * - the change feed delivered exactly the step's changes the model predicts, each once, at increasing
 *   positions; the facade's listeners heard the same, as events;
 * - the engine's outcome consumer (resumed from its stored position whenever it restarted) handled
 *   exactly the outcomes of the feed, each once, in order;
 * - (on each claim, see {@link expectNoOverlap}) no task was handed out while another lock on it held.
 */
export class StepChecks {
  /** The store's records after the previous step, by id. */
  private previous = new Map<string, ModelTask>();
  private changesSeen = 0;
  private eventsSeen = 0;

  /** Fails when a claim at `now` handed out a task whose lock, as the store showed it, still held. */
  expectNoOverlap(claimed: readonly ExternalTask[], now: number): void {
    for (const task of claimed) {
      const before = this.previous.get(task.id);
      if (before?.state !== 'pending' || before.lockExpirationTime === undefined) continue;
      expect(
        before.lockExpirationTime <= now,
        `overlapping locks: ${task.id} handed to ${task.workerId} at ${now} while ${before.workerId} ` +
          `held it until ${before.lockExpirationTime}`,
      ).to.equal(true);
    }
  }

  /**
   * Whether the store holds `model`'s tasks and the feed delivered the changes `model` has queued (not
   * taken): of several orders of racing steps that answer alike, the one that happened.
   */
  async agrees(model: ReferenceModel, real: RealSystem): Promise<boolean> {
    await real.settled();
    const byModelOrder = modelOrder(model);
    const stored = (await real.api.engine.query({ limit: 1000 })).tasks.map(plainRecord);
    const delivered = real.changes.slice(this.changesSeen).map(plainChange);
    return (
      isDeepStrictEqual(stored.sort(byModelOrder), model.stored()) &&
      isDeepStrictEqual(canonical(delivered, byModelOrder), canonical(model.queuedChanges(), byModelOrder))
    );
  }

  async afterStep(model: ReferenceModel, real: RealSystem, predicted: readonly ModelChange[]): Promise<void> {
    await real.settled();
    const byModelOrder = modelOrder(model);

    const page = await real.api.engine.query({ limit: 1000 });
    const stored = page.tasks.map(plainRecord);
    expect(page.total, 'tasks in the store').to.equal(stored.length);
    expect(new Set(stored.map((task) => task.id)).size, 'distinct task ids in the store').to.equal(
      stored.length,
    );
    const expected = model.stored();
    expectSame(stored.sort(byModelOrder), expected, 'the tasks in the store');
    this.previous = new Map(stored.map((task) => [task.id, task]));

    const delivered = real.changes.slice(this.changesSeen);
    let position = real.changes[this.changesSeen - 1]?.position ?? 0;
    for (const change of delivered) {
      expect(change.position, `the position of a ${change.type} change`).to.be.greaterThan(position);
      position = change.position;
    }
    const wanted = canonical(predicted, byModelOrder);
    expectSame(canonical(delivered.map(plainChange), byModelOrder), wanted, 'the changes of the step');
    this.changesSeen = real.changes.length;

    const heard = real.events
      .slice(this.eventsSeen)
      .map(({ type, task }) => ({ type, task: plainRecord(task) }));
    expectSame(
      canonical(heard, byModelOrder),
      wanted.map(({ type, task }) => ({ type, task })),
      'the events of the step',
    );
    this.eventsSeen = real.events.length;

    const outcomes = real.changes
      .filter(isOutcome)
      .map((change) => ({ position: change.position, taskId: change.task.id }));
    expectSame(real.outcomes, outcomes, 'the outcomes the engine consumed');
  }
}

type ByModelOrder = (a: { readonly id: string }, b: { readonly id: string }) => number;

/** Orders records as the model created them. */
function modelOrder(model: ReferenceModel): ByModelOrder {
  const index = new Map(model.tasks.map((task, place) => [task.id, place]));
  return (a, b) => (index.get(a.id) ?? -1) - (index.get(b.id) ?? -1);
}

/**
 * The changes of one step, task by task in creation order, each task's in the order they happened: the
 * feed orders one task's changes, but not those of different tasks a single operation touched.
 */
function canonical<C extends { readonly task: { readonly id: string } }>(
  changes: readonly C[],
  byModelOrder: ByModelOrder,
): C[] {
  return [...changes].sort((a, b) => byModelOrder(a.task, b.task));
}
