import { expect } from 'chai';
import { ModelCommand, type ModelReal } from './model-command.js';
import type { ReferenceModel } from './reference-model.js';
import { WorkerWriteCommand, type WorkerCommand } from './worker-commands.js';

/**
 * Several workers' steps at the same moment (fetches racing for the same tasks, an outcome racing an
 * extension or an unlock). The answers must be those of the steps run one after another in some order
 * (each step atomic; a racing fetch may come back short, see `FetchCommand.judge`), and the store must
 * then be in the state that order leaves; no task that no racing write touches may be handed to two of
 * the racing fetches.
 */
export class ConcurrentCommand extends ModelCommand {
  constructor(
    readonly steps: readonly WorkerCommand[],
    /** Whether the store's racing fetches may come back short (see `StoreUnderTest`). */
    private readonly mayComeBackShort: boolean,
  ) {
    super();
  }

  protected async step(model: ReferenceModel, { system, checks }: ModelReal): Promise<void> {
    const answers = await Promise.all(this.steps.map((step) => step.perform(model, system)));
    // A racing write may end a lock (unlock, an outcome) before a racing fetch takes the task anew.
    const written = new Set(
      this.steps.flatMap((step) => (step instanceof WorkerWriteCommand ? [step.resolve(model).id] : [])),
    );
    const claimed = this.steps
      .flatMap((step, place) => step.claimed(answers[place]!))
      .filter((task) => !written.has(task.id));
    checks.expectNoOverlap(claimed, model.now);
    const ids = claimed.map((task) => task.id);
    expect(new Set(ids).size, `tasks handed to two racing fetches: ${ids.join(', ')}`).to.equal(ids.length);

    const failures: string[] = [];
    const explaining: ReferenceModel[] = [];
    for (const order of orders(this.steps.length)) {
      const tried = model.copy();
      try {
        for (const place of order)
          this.steps[place]!.judge(tried, answers[place]!, model, this.mayComeBackShort);
        explaining.push(tried);
      } catch (error) {
        failures.push(`in the order ${order.join(',')}: ${(error as Error).message}`);
      }
    }
    if (explaining.length === 0) {
      expect.fail(`no order of the racing steps explains their answers:\n${failures.join('\n')}`);
    }
    // Orders that answer alike may leave different states or changes: the store's tell which happened.
    let happened = explaining[0]!;
    if (explaining.length > 1) {
      for (const tried of explaining) {
        if (!(await checks.agrees(tried, system))) continue;
        happened = tried;
        break;
      }
    }
    model.adopt(happened);
  }

  toString(): string {
    return `concurrently(${this.steps.map(String).join(', ')})`;
  }
}

/** Every order of `count` places. */
function orders(count: number): number[][] {
  if (count === 0) return [[]];
  return orders(count - 1).flatMap((order) =>
    Array.from({ length: count }, (_, at) => [...order.slice(0, at), count - 1, ...order.slice(at)]),
  );
}
