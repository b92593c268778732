import fc from 'fast-check';
import { ConcurrentCommand } from './concurrent-command.js';
import {
  CancelCommand,
  CreateCommand,
  DeleteFinalTasksCommand,
  EngineWriteCommand,
} from './engine-commands.js';
import {
  ClockCommand,
  ClockToNextDueCommand,
  FailNextOutcomeCommand,
  ReopenCommand,
  RestartConsumerCommand,
  ResumeFeedCommand,
} from './life-commands.js';
import type { ModelReal } from './model-command.js';
import { RealSystem } from './real-system.js';
import { ReferenceModel, type ModelNewTask } from './reference-model.js';
import { StepChecks } from './step-checks.js';
import type { StoreUnderTest } from './stores.js';
import { FetchCommand, WORKERS, WorkerWriteCommand, type WorkerWrite } from './worker-commands.js';

const TOPICS = ['t1', 't2', 't3'];
const PROCESSES = ['p1', 'p2', 'p3'];
const worker = fc.constantFrom(...WORKERS);
/** A task of the run, by its place among every task created (modulo their number). */
const taskIndex = fc.nat(40);

const newTask: fc.Arbitrary<ModelNewTask> = fc.record(
  {
    topic: fc.constantFrom(...TOPICS),
    flowNodeInstanceId: fc.nat(99).map((n) => `fni-${n}`),
    correlationId: fc.constant('c'),
    processInstanceId: fc.constantFrom(...PROCESSES),
    tenantId: fc.constantFrom('a', 'b'),
    payload: fc.nat(9).map((n) => ({ n })),
    priority: fc.constantFrom(-1, 0, 2),
    retries: fc.constantFrom(0, 2),
    idempotencyKey: fc.nat(5).map((n) => `key-${n}`),
  },
  { requiredKeys: ['topic', 'flowNodeInstanceId', 'correlationId', 'processInstanceId'] },
);

const lockDuration = fc.constantFrom(500, 1000, 3000);

const fetch = fc
  .tuple(
    worker,
    fc.subarray(TOPICS, { minLength: 1 }),
    fc.array(lockDuration, { minLength: 3, maxLength: 3 }),
  )
  .chain(([who, topics, durations]) =>
    fc.integer({ min: 1, max: 3 }).map(
      (maxTasks) =>
        new FetchCommand(
          who,
          topics.map((topicName, place) => ({ topicName, lockDuration: durations[place]! })),
          maxTasks,
        ),
    ),
  );

const workerWrite: fc.Arbitrary<WorkerWrite> = fc.oneof(
  // 0 and 2.5 are not durations: 400, whatever the task.
  fc.constantFrom(500, 2000, 0, 2.5).map((duration) => ({ kind: 'extendLock' as const, duration })),
  fc
    .option(
      fc.nat(9).map((n) => ({ done: n })),
      { nil: undefined },
    )
    .map((result) => ({
      kind: 'finish' as const,
      result,
    })),
  fc.constant({ kind: 'bpmnError' as const, errorCode: 'E-1' }),
  fc
    .oneof(
      fc.constant(undefined),
      fc.record({ retries: fc.constantFrom(0, 1, 2), retryTimeout: fc.constantFrom(0, 700, 2500) }),
    )
    .map((retry) => ({
      kind: 'serviceError' as const,
      error: { errorMessage: 'down', ...(retry && { retry }) },
    })),
  fc.constant({ kind: 'unlock' as const }),
);

const workerWriteCommand = fc
  .tuple(worker, fc.record({ index: taskIndex, byHolder: fc.boolean() }), workerWrite)
  .map(([who, target, write]) => new WorkerWriteCommand(who, target, write));

/** Every kind of step a run on `store` takes (reopening only on a durable store). */
function commandsOf(store: StoreUnderTest): fc.Arbitrary<fc.AsyncCommand<ReferenceModel, ModelReal>>[] {
  const create = fc.array(newTask, { minLength: 1, maxLength: 3 }).map((tasks) => new CreateCommand(tasks));
  // Listed twice or three times: drawn that much more often.
  return [
    create,
    create,
    fetch,
    fetch,
    workerWriteCommand,
    workerWriteCommand,
    workerWriteCommand,
    fc
      .tuple(taskIndex, fc.constantFrom(0, 1, 3, -1), fc.option(fc.constantFrom(0, 800), { nil: undefined }))
      .map(
        ([index, retries, retryTimeout]) =>
          new EngineWriteCommand(index, {
            kind: 'setRetries',
            retries,
            ...(retryTimeout !== undefined && { retryTimeout }),
          }),
      ),
    taskIndex.map((index) => new EngineWriteCommand(index, { kind: 'forceUnlock' })),
    fc
      .tuple(taskIndex, fc.constantFrom(-2, 0, 3, 1.5))
      .map(([index, priority]) => new EngineWriteCommand(index, { kind: 'setPriority', priority })),
    fc
      .oneof(
        fc.constantFrom(...PROCESSES).map((processInstanceId) => ({ processInstanceId })),
        taskIndex.map((index) => ({ taskIndex: index })),
      )
      .map((selector) => new CancelCommand(selector)),
    fc.constantFrom(...PROCESSES).map((processInstanceId) => new DeleteFinalTasksCommand(processInstanceId)),
    // Often a lock duration or a retry delay, or 1 ms short of one: steps land on and just before expiries.
    fc
      .oneof(fc.constantFrom(499, 500, 699, 700, 999, 1000, 2500, 3000), fc.integer({ min: 1, max: 3500 }))
      .map((ms) => new ClockCommand(ms)),
    fc.constantFrom(-1, 0).map((offset) => new ClockToNextDueCommand(offset)),
    fc
      .oneof(fc.constantFrom(-500, -1000), fc.integer({ min: -1500, max: -1 }))
      .map((ms) => new ClockCommand(ms)),
    fc
      .array(fc.oneof(fetch, workerWriteCommand), { minLength: 2, maxLength: 3 })
      .map((group) => new ConcurrentCommand(group, store.racingFetchesMayComeBackShort)),
    fc.constant(new RestartConsumerCommand()),
    fc.constant(new FailNextOutcomeCommand()),
    fc.nat(50).map((place) => new ResumeFeedCommand(place)),
    ...(store.durable ? [fc.constant(new ReopenCommand())] : []),
  ];
}

/** What a model run did. */
export interface ModelRunTotals {
  runs: number;
  steps: number;
  ms: number;
}

/** Options of {@link runModel}. */
export interface ModelRunOptions {
  readonly runs: number;
  /** The most steps of one run. */
  readonly maxSteps: number;
}

/**
 * A failure prints `seed`, `path` and the sequence's `replayPath`; set them as MODEL_SEED, MODEL_PATH and
 * MODEL_REPLAY_PATH to run that sequence again (and only it).
 */
const replay = {
  seed: process.env.MODEL_SEED === undefined ? undefined : Number(process.env.MODEL_SEED),
  path: process.env.MODEL_PATH,
  replayPath: process.env.MODEL_REPLAY_PATH,
};

/**
 * Runs `options.runs` random sequences of steps against the reference model and, in the same run, a
 * fresh store of `store`; fails with the shrunk sequence, printed as calls, and what replays it (see
 * {@link replay}).
 */
export async function runModel(store: StoreUnderTest, options: ModelRunOptions): Promise<ModelRunTotals> {
  const totals: ModelRunTotals = { runs: 0, steps: 0, ms: 0 };
  const started = performance.now();
  await fc.assert(
    fc.asyncProperty(
      fc.commands(commandsOf(store), {
        maxCommands: options.maxSteps,
        size: 'max',
        ...(replay.replayPath !== undefined && { replayPath: replay.replayPath }),
      }),
      async (commands) => {
        const system = await RealSystem.open(store);
        const counts = { steps: 0 };
        try {
          await fc.asyncModelRun(
            () => ({ model: new ReferenceModel(), real: { system, checks: new StepChecks(), counts } }),
            commands,
          );
        } finally {
          await system.dispose();
          totals.runs++;
          totals.steps += counts.steps;
        }
      },
    ),
    {
      numRuns: options.runs,
      includeErrorInReport: true,
      ...(replay.seed !== undefined && { seed: replay.seed }),
      ...(replay.path !== undefined && { path: replay.path }),
    },
  );
  totals.ms = performance.now() - started;
  return totals;
}
