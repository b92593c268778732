import { isDeepStrictEqual } from 'node:util';
import { expect } from 'chai';
import { plainRecord, type ModelTask } from './model-task.js';
import { ModelCommand, type ModelReal } from './model-command.js';
import type { ReferenceModel } from './reference-model.js';
import { WorkerWriteCommand, type WorkerCommand } from './worker-commands.js';

/**
 * Several workers' steps at the same moment (fetches racing for the same tasks, an outcome racing an
 * extension or an unlock). The answers must be those of the steps run one after another in some order
 * (each step atomic), and the store must then be in the state that order leaves; no task that no racing
 * write touches may be handed to two of the racing fetches.
 */
export class ConcurrentCommand extends ModelCommand {
  constructor(readonly steps: readonly WorkerCommand[]) {
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
        for (const place of order) this.steps[place]!.judge(tried, answers[place]!, model);
        explaining.push(tried);
      } catch (error) {
        failures.push(`in the order ${order.join(',')}: ${(error as Error).message}`);
      }
    }
    if (explaining.length === 0) {
      expect.fail(`no order of the racing steps explains their answers:\n${failures.join('\n')}`);
    }
    // Orders that answer alike may leave different states: the store's tells which happened.
    const stored = explaining.length > 1 ? (await system.api.engine.query({ limit: 1000 })).tasks : [];
    const happened = explaining.find((tried) =>
      isDeepStrictEqual(sortedById(stored.map(plainRecord)), sortedById(tried.stored())),
    );
    model.adopt(happened ?? explaining[0]!);
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

function sortedById(tasks: readonly ModelTask[]): ModelTask[] {
  return [...tasks].sort((a, b) => a.id.localeCompare(b.id));
}
