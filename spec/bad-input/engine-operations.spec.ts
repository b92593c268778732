import { expect } from 'chai';
import type { NewExternalTask } from '../../lib/index.js';
import { newTask } from '../support/fixtures.js';
import { listDefects, tryParameter, type Bed, type ParameterCase } from './case-runner.js';
import type { KindName } from './valid-values.js';

const surface = 'api.engine operations';

function engineCase(
  label: string,
  kind: KindName,
  names: readonly string[],
  call: (bed: Bed, value: unknown) => unknown,
): ParameterCase {
  return { surface, label: `engine.${label}`, kind, names, call };
}

const taskFields: readonly (readonly [keyof NewExternalTask, KindName])[] = [
  ['topic', 'id'],
  ['flowNodeInstanceId', 'id'],
  ['correlationId', 'id'],
  ['processInstanceId', 'id'],
  ['processModelId', 'optionalId'],
  ['tenantId', 'optionalId'],
  ['idempotencyKey', 'optionalId'],
  ['identity', 'taskIdentity'],
  ['payload', 'json'],
  ['priority', 'optionalPriority'],
  ['retries', 'optionalRetries'],
];

const queryFields: readonly (readonly [string, KindName])[] = [
  ['state', 'oneOrManyStates'],
  ['topic', 'oneOrManyIds'],
  ['tenantId', 'optionalId'],
  ['processModelId', 'optionalId'],
  ['processInstanceId', 'optionalId'],
  ['correlationId', 'optionalId'],
  ['flowNodeInstanceId', 'optionalId'],
  ['workerId', 'optionalId'],
  ['incident', 'optionalBoolean'],
  ['locked', 'optionalBoolean'],
  ['limit', 'optionalLimit'],
  ['offset', 'optionalOffset'],
];

const selectorFields = ['externalTaskId', 'flowNodeInstanceId', 'processInstanceId'] as const;

const cases: ParameterCase[] = [
  engineCase('create(task)', 'requiredBag', ['task', ...taskFields.map(([f]) => f)], (bed, value) =>
    bed.api.engine.create(value as NewExternalTask),
  ),
  ...taskFields.map(([field, kind]) =>
    engineCase(`create(task.${field})`, kind, [field], (bed, value) =>
      bed.api.engine.create({ ...newTask('invoice'), [field]: value }),
    ),
  ),
  engineCase('createMany(tasks)', 'taskList', ['tasks'], (bed, value) =>
    bed.api.engine.createMany(value as NewExternalTask[]),
  ),
  engineCase('createMany(tasks[0])', 'requiredBag', ['tasks[0]'], (bed, value) =>
    bed.api.engine.createMany([value as NewExternalTask]),
  ),
  ...taskFields.map(([field, kind]) =>
    engineCase(`createMany(tasks[1].${field})`, kind, [`tasks[1].${field}`], (bed, value) =>
      bed.api.engine.createMany([newTask('invoice'), { ...newTask('invoice'), [field]: value }]),
    ),
  ),
  engineCase('cancel(selector)', 'requiredBag', ['selector'], (bed, value) =>
    bed.api.engine.cancel(value as never),
  ),
  ...selectorFields.map((field) =>
    // Without its one field (undefined) the selector names none: the refusal names the selector.
    engineCase(`cancel(selector.${field})`, 'id', [field, 'selector'], (bed, value) =>
      bed.api.engine.cancel({ [field]: value } as never),
    ),
  ),
  engineCase('query(filter)', 'filter', ['filter'], (bed, value) => bed.api.engine.query(value as never)),
  ...queryFields.map(([field, kind]) =>
    engineCase(`query(filter.${field})`, kind, [field], (bed, value) =>
      bed.api.engine.query({ [field]: value }),
    ),
  ),
  engineCase('countByTopic(filter)', 'countFilter', ['filter', 'topicNames'], (bed, value) =>
    bed.api.engine.countByTopic(value as never),
  ),
  engineCase('countByTopic(filter.topics)', 'optionalTopicList', ['topics'], (bed, value) =>
    bed.api.engine.countByTopic({ topics: value as string[] }),
  ),
  engineCase('countByTopic(topicNames[0])', 'id', ['topicNames[0]'], (bed, value) =>
    bed.api.engine.countByTopic([value as string]),
  ),
  engineCase('countByTopic(filter.tenantId)', 'optionalId', ['tenantId'], (bed, value) =>
    bed.api.engine.countByTopic({ tenantId: value as string }),
  ),
  engineCase('getById(externalTaskId)', 'id', ['externalTaskId'], (bed, value) =>
    bed.api.engine.getById(value as string),
  ),
  engineCase('setRetries(externalTaskId)', 'id', ['externalTaskId'], (bed, value) =>
    bed.api.engine.setRetries(value as string, 3),
  ),
  engineCase('setRetries(retries)', 'retries', ['retries'], (bed, value) =>
    bed.api.engine.setRetries(bed.available.id, value as number),
  ),
  engineCase('setRetries(options)', 'optionalBag', ['options'], (bed, value) =>
    bed.api.engine.setRetries(bed.available.id, 3, value as never),
  ),
  engineCase('setRetries(options.retryTimeout)', 'optionalDelay', ['retryTimeout'], (bed, value) =>
    bed.api.engine.setRetries(bed.available.id, 3, { retryTimeout: value as number }),
  ),
  engineCase('forceUnlock(externalTaskId)', 'id', ['externalTaskId'], (bed, value) =>
    bed.api.engine.forceUnlock(value as string),
  ),
  engineCase('setPriority(externalTaskId)', 'id', ['externalTaskId'], (bed, value) =>
    bed.api.engine.setPriority(value as string, 5),
  ),
  engineCase('setPriority(priority)', 'priority', ['priority'], (bed, value) =>
    bed.api.engine.setPriority(bed.available.id, value as number),
  ),
  engineCase('deleteFinalTasks(selector)', 'requiredBag', ['selector', 'processInstanceId'], (bed, value) =>
    bed.api.engine.deleteFinalTasks(value as never),
  ),
  engineCase('deleteFinalTasks(selector.processInstanceId)', 'id', ['processInstanceId'], (bed, value) =>
    bed.api.engine.deleteFinalTasks({ processInstanceId: value as string }),
  ),
];

describe('bad input: api.engine', () => {
  for (const parameter of cases) {
    it(`${parameter.label}: each hostile value refused naming it, or accepted as documented`, async () => {
      const defects = await tryParameter(parameter);
      expect(defects, listDefects(defects)).to.deep.equal([]);
    });
  }
});
