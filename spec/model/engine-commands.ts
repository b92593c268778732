import type { ExternalTask } from '../../lib/model/index.js';
import { answerOf, expectAnswer, ModelCommand, type ModelReal } from './model-command.js';
import { plainRecord, type ModelTask } from './model-task.js';
import type { ModelNewTask, Prediction, ReferenceModel } from './reference-model.js';
import { UNKNOWN_ID } from './worker-commands.js';

/** The engine creates tasks: one with `create`, several (all or none) with `createMany`. */
export class CreateCommand extends ModelCommand {
  constructor(readonly tasks: readonly ModelNewTask[]) {
    super();
  }

  protected async step(model: ReferenceModel, { system }: ModelReal): Promise<void> {
    const { engine } = system.api;
    const answer = await answerOf(async () =>
      this.tasks.length === 1 ? [await engine.create(this.tasks[0]!)] : engine.createMany(this.tasks),
    );
    const answeredIds = 'value' in answer ? answer.value.map((task) => task.id) : [];
    const predicted = { value: model.createMany(this.tasks, answeredIds) };
    expectAnswer(answer, predicted, (tasks) => tasks.map(plainRecord), this.toString());
  }

  toString(): string {
    const name = this.tasks.length === 1 ? 'create' : 'createMany';
    return `${name}(${this.tasks.map((task) => JSON.stringify(task)).join(', ')})`;
  }
}

/** What the engine does to one task (the task at `taskIndex` of every task the run created). */
export type EngineWrite =
  | { readonly kind: 'setRetries'; readonly retries: number; readonly retryTimeout?: number }
  | { readonly kind: 'forceUnlock' }
  | { readonly kind: 'setPriority'; readonly priority: number };

/** The engine's write on one task: the record after it, or 400, 404, 410. */
export class EngineWriteCommand extends ModelCommand {
  constructor(
    readonly taskIndex: number,
    readonly write: EngineWrite,
  ) {
    super();
  }

  protected async step(model: ReferenceModel, { system }: ModelReal): Promise<void> {
    const id = model.idAt(this.taskIndex) ?? UNKNOWN_ID;
    const { engine } = system.api;
    const write = this.write;
    let call: () => Promise<ExternalTask>;
    let predict: () => Prediction<ModelTask>;
    switch (write.kind) {
      case 'setRetries': {
        const options = write.retryTimeout === undefined ? undefined : { retryTimeout: write.retryTimeout };
        call = () => engine.setRetries(id, write.retries, options);
        predict = () => model.setRetries(id, write.retries, write.retryTimeout);
        break;
      }
      case 'forceUnlock':
        call = () => engine.forceUnlock(id);
        predict = () => model.forceUnlock(id);
        break;
      case 'setPriority':
        call = () => engine.setPriority(id, write.priority);
        predict = () => model.setPriority(id, write.priority);
        break;
    }
    expectAnswer(await answerOf(call), predict(), plainRecord, this.toString());
  }

  toString(): string {
    const { kind, ...args } = this.write;
    return `engine.${kind}(#${this.taskIndex}${Object.values(args)
      .map((value) => `, ${value}`)
      .join('')})`;
  }
}

/** The engine cancels a process instance's pending tasks, or one task. */
export class CancelCommand extends ModelCommand {
  constructor(readonly selector: { readonly processInstanceId: string } | { readonly taskIndex: number }) {
    super();
  }

  protected async step(model: ReferenceModel, { system }: ModelReal): Promise<void> {
    const selector =
      'taskIndex' in this.selector
        ? { externalTaskId: model.idAt(this.selector.taskIndex) ?? UNKNOWN_ID }
        : this.selector;
    const answer = await answerOf(() => system.api.engine.cancel(selector));
    expectAnswer(answer, { value: model.cancel(selector) }, (count) => count, this.toString());
  }

  toString(): string {
    return 'taskIndex' in this.selector
      ? `engine.cancel(#${this.selector.taskIndex})`
      : `engine.cancel(${this.selector.processInstanceId})`;
  }
}

/** The engine deletes a process instance's final tasks. */
export class DeleteFinalTasksCommand extends ModelCommand {
  constructor(readonly processInstanceId: string) {
    super();
  }

  protected async step(model: ReferenceModel, { system }: ModelReal): Promise<void> {
    const { processInstanceId } = this;
    const answer = await answerOf(() => system.api.engine.deleteFinalTasks({ processInstanceId }));
    expectAnswer(
      answer,
      { value: model.deleteFinalTasks(processInstanceId) },
      (count) => count,
      this.toString(),
    );
  }

  toString(): string {
    return `engine.deleteFinalTasks(${this.processInstanceId})`;
  }
}
