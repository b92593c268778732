import { expect } from 'chai';
import fc from 'fast-check';
import { ManualClock } from 'external-task-api/testing';
import type { TimerHandle } from '../../../lib/clock/index.js';
import type { ExternalTask } from '../../../lib/model/index.js';
import type { ConditionalWriteResult, TaskScope, TopicClaim } from '../../../lib/repository/index.js';
import { InMemoryExternalTaskRepository } from '../../../lib/repository/in-memory/index.js';
import { START } from '../../../lib/testing/contract/case-inputs.js';

const TOPICS = ['a', 'b', 'c'] as const;
const WORKERS = ['w1', 'w2', 'w3'] as const;
const OWNERS = ['x', 'y'] as const;
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

type Owner = (typeof OWNERS)[number];
/** Which tasks the caller of an operation may see: those of one owner, or all. */
type Sight = Owner | 'all';

type Command =
  | { readonly kind: 'create'; readonly topic: string; readonly priority: number; readonly owner: Owner }
  | {
      readonly kind: 'claim';
      readonly workerId: string;
      readonly topics: readonly TopicClaim[];
      readonly maxTasks: number;
      readonly sight: Sight;
    }
  | {
      readonly kind: 'extendLock';
      readonly pick: number;
      readonly workerId: string;
      readonly lockDuration: number;
      readonly sight: Sight;
    }
  | {
      readonly kind: 'complete';
      readonly pick: number;
      readonly workerId: string;
      readonly state: 'finished' | 'failed';
      readonly sight: Sight;
    }
  | { readonly kind: 'msUntilNextAvailable'; readonly topics: readonly string[] }
  | { readonly kind: 'advance'; readonly ms: number };

const topic = fc.constantFrom(...TOPICS);
const workerId = fc.constantFrom(...WORKERS);
const sight = fc.constantFrom<Sight>('x', 'y', 'all', 'all');
const pick = fc.nat({ max: 1000 });

const commandArbitrary: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('create' as const),
      topic,
      priority: fc.integer({ min: -2, max: 2 }),
      owner: fc.constantFrom(...OWNERS),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('claim' as const),
      workerId,
      topics: fc.uniqueArray(
        fc.record({ topicName: topic, lockDuration: fc.integer({ min: 1, max: 100 }) }),
        {
          minLength: 1,
          maxLength: TOPICS.length,
          selector: (claim) => claim.topicName,
        },
      ),
      maxTasks: fc.integer({ min: 1, max: 5 }),
      sight,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('extendLock' as const),
      pick,
      workerId,
      lockDuration: fc.integer({ min: 1, max: 100 }),
      sight,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('complete' as const),
      pick,
      workerId,
      state: fc.constantFrom('finished' as const, 'failed' as const),
      sight,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('msUntilNextAvailable' as const),
      topics: fc.uniqueArray(topic, { maxLength: TOPICS.length }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 120 }) }),
  },
);

/** The reference model's record of a task. */
interface ModelTask {
  readonly id: string;
  readonly topic: string;
  readonly priority: number;
  readonly owner: Owner;
  state: 'pending' | 'finished' | 'failed';
  workerId: string | undefined;
  lockExpirationTime: number | undefined;
  attempts: number;
}

type ModelWriteStatus = ConditionalWriteResult['status'];

/** The naive reference: an array in creation order, scanned linearly. */
class NaiveModel {
  readonly tasks: ModelTask[] = [];

  constructor(private readonly now: () => number) {}

  private visible(task: ModelTask, sight: Sight): boolean {
    return sight === 'all' || task.owner === sight;
  }

  claim(workerId: string, topics: readonly TopicClaim[], maxTasks: number, sight: Sight): ModelTask[] {
    const now = this.now();
    const available = this.tasks.filter(
      (task) =>
        task.state === 'pending' &&
        (task.lockExpirationTime === undefined || task.lockExpirationTime <= now) &&
        topics.some((claim) => claim.topicName === task.topic) &&
        this.visible(task, sight),
    );
    // Array.prototype.sort is stable, and `tasks` is in creation order: equal priorities stay oldest first.
    const claimed = available.sort((a, b) => b.priority - a.priority).slice(0, maxTasks);
    for (const task of claimed) {
      task.workerId = workerId;
      task.lockExpirationTime = now + topics.find((claim) => claim.topicName === task.topic)!.lockDuration;
      task.attempts++;
    }
    return claimed;
  }

  write(
    id: string,
    workerId: string,
    sight: Sight,
    apply: (task: ModelTask) => void,
  ): { status: ModelWriteStatus; task?: ModelTask } {
    const task = this.tasks.find((candidate) => candidate.id === id);
    if (!task || !this.visible(task, sight)) return { status: 'not-found' };
    if (task.state !== 'pending') return { status: 'gone', task };
    if (task.workerId !== workerId) return { status: 'locked', task };
    apply(task);
    return { status: 'ok', task };
  }

  msUntilNextAvailable(topics: readonly string[]): number | undefined {
    const now = this.now();
    const availableAt = this.tasks
      .filter((task) => task.state === 'pending' && topics.includes(task.topic))
      .map((task) => Math.max(0, (task.lockExpirationTime ?? now) - now));
    return availableAt.length === 0 ? undefined : Math.min(...availableAt);
  }
}

/** A manual clock that fails the run if the store schedules a timer: claims and writes need none. */
class TimerlessClock extends ManualClock {
  override setTimeout(): TimerHandle {
    throw new Error('the repository must not schedule timers');
  }

  override clearTimeout(): void {
    throw new Error('the repository must not schedule timers');
  }
}

function expectSameRecord(actual: ExternalTask | undefined, expected: ModelTask): void {
  expect(actual, `task ${expected.id}`).to.not.be.undefined;
  expect(actual!.id).to.equal(expected.id);
  expect(actual!.state, `state of ${expected.id}`).to.equal(expected.state);
  expect(actual!.workerId, `workerId of ${expected.id}`).to.equal(expected.workerId);
  expect(actual!.lockExpirationTime?.getTime(), `lock of ${expected.id}`).to.equal(
    expected.lockExpirationTime,
  );
  expect(actual!.attempts, `attempts of ${expected.id}`).to.equal(expected.attempts);
}

async function run(commands: readonly Command[]): Promise<void> {
  const clock = new TimerlessClock(START);
  const repository = new InMemoryExternalTaskRepository({ clock });
  const model = new NaiveModel(() => clock.now());
  const scopeOf = (sight: Sight): { scope?: TaskScope } =>
    sight === 'all' ? {} : { scope: { tenantIds: [sight] } };
  const idOf = (pick: number): string => {
    // One more choice than there are tasks: that one names a task that does not exist.
    const index = pick % (model.tasks.length + 1);
    return model.tasks[index]?.id ?? UNKNOWN_ID;
  };
  const expectSameWrite = (
    actual: ConditionalWriteResult,
    expected: { status: ModelWriteStatus; task?: ModelTask },
  ): void => {
    expect(actual.status).to.equal(expected.status);
    if (actual.status !== 'not-found') expectSameRecord(actual.task, expected.task!);
  };

  for (const command of commands) {
    switch (command.kind) {
      case 'create': {
        const task = await repository.create({
          topic: command.topic,
          flowNodeInstanceId: 'fni',
          correlationId: 'corr',
          processInstanceId: 'pi',
          priority: command.priority,
          tenantId: command.owner,
        });
        model.tasks.push({
          id: task.id,
          topic: command.topic,
          priority: command.priority,
          owner: command.owner,
          state: 'pending',
          workerId: undefined,
          lockExpirationTime: undefined,
          attempts: 0,
        });
        break;
      }
      case 'claim': {
        const claimed = await repository.claim({
          workerId: command.workerId,
          topics: command.topics,
          maxTasks: command.maxTasks,
          ...scopeOf(command.sight),
        });
        const expected = model.claim(command.workerId, command.topics, command.maxTasks, command.sight);
        expect(claimed.map((task) => task.id)).to.deep.equal(expected.map((task) => task.id));
        claimed.forEach((task, index) => expectSameRecord(task, expected[index]!));
        break;
      }
      case 'extendLock': {
        const externalTaskId = idOf(command.pick);
        const actual = await repository.extendLock({
          externalTaskId,
          workerId: command.workerId,
          lockDuration: command.lockDuration,
          ...scopeOf(command.sight),
        });
        const expected = model.write(externalTaskId, command.workerId, command.sight, (task) => {
          task.lockExpirationTime = clock.now() + command.lockDuration;
        });
        expectSameWrite(actual, expected);
        break;
      }
      case 'complete': {
        const externalTaskId = idOf(command.pick);
        const actual = await repository.complete({
          externalTaskId,
          workerId: command.workerId,
          outcome:
            command.state === 'finished'
              ? { state: 'finished', result: 'done' }
              : { state: 'failed', error: { type: 'bpmn', errorCode: 'E' } },
          ...scopeOf(command.sight),
        });
        const expected = model.write(externalTaskId, command.workerId, command.sight, (task) => {
          task.state = command.state;
          task.lockExpirationTime = undefined;
        });
        expectSameWrite(actual, expected);
        break;
      }
      case 'msUntilNextAvailable': {
        const actual = await repository.msUntilNextAvailable(command.topics);
        expect(actual).to.equal(model.msUntilNextAvailable(command.topics));
        break;
      }
      case 'advance':
        clock.advance(command.ms);
        break;
    }
  }
  for (const task of model.tasks) expectSameRecord(await repository.getById(task.id), task);
}

describe('InMemoryExternalTaskRepository against a naive reference model', () => {
  it('claims the same tasks in the same order and answers every conditional write the same', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(commandArbitrary, { maxLength: 80, size: 'max' }), (commands) =>
        run(commands),
      ),
      { numRuns: 250 },
    );
  });

  it('agrees with the model on long runs with many tasks of one priority band', async () => {
    const manyCreates = fc.array(
      fc.record({
        kind: fc.constant('create' as const),
        topic,
        priority: fc.integer({ min: 0, max: 1 }),
        owner: fc.constantFrom(...OWNERS),
      }),
      { minLength: 20, maxLength: 60, size: 'max' },
    );
    await fc.assert(
      fc.asyncProperty(
        manyCreates,
        fc.array(commandArbitrary, { minLength: 50, maxLength: 200, size: 'max' }),
        (creates, rest) => run([...creates, ...rest]),
      ),
      { numRuns: 40 },
    );
  });
});
