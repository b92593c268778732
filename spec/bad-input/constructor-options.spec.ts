import { expect } from 'chai';
import {
  ExternalTaskApi,
  ExternalTaskWorker,
  InMemoryExternalTaskRepository,
  type ExternalTaskApiOptions,
} from '../../lib/index.js';
import {
  createCamundaRestHandler,
  createHttpHandler,
  HttpExternalTaskClient,
  type HttpExternalTaskClientOptions,
} from '../../lib/http/index.js';
import { listDefects, tryParameter, type Bed, type ParameterCase } from './case-runner.js';
import type { KindName } from './valid-values.js';

const surface = 'constructor options';
const silentLogger = { error: () => undefined, warn: () => undefined };

/** A case of one constructor option: refused with a TypeError, RangeError or 400 whose message names it. */
function option(
  label: string,
  kind: KindName,
  names: readonly string[],
  call: (bed: Bed, value: unknown) => unknown,
): ParameterCase {
  return { surface, label, kind, names, refusal: 'option-error', call };
}

async function newApi(bed: Bed, options: Partial<ExternalTaskApiOptions>): Promise<void> {
  await new ExternalTaskApi({ repository: bed.repository, logger: silentLogger, ...options }).close();
}

function newWorker(bed: Bed, options: Record<string, unknown>): ExternalTaskWorker {
  const base = { topic: 'invoice', handler: () => undefined, logger: silentLogger };
  return new ExternalTaskWorker(bed.api, { ...base, ...options });
}

const workerOptions: readonly (readonly [string, KindName])[] = [
  ['topic', 'topicOption'],
  ['handler', 'callback'],
  ['identity', 'optionalObject'],
  ['workerId', 'defaultedId'],
  ['concurrency', 'defaultedPositive'],
  ['maxTasks', 'defaultedMaxTasks'],
  ['lockDuration', 'defaultedPositive'],
  ['extendLockInterval', 'defaultedPositive'],
  ['longPollingTimeout', 'defaultedLongPoll'],
  ['pollInterval', 'defaultedFromZero'],
  ['stopGracePeriod', 'defaultedFromZero'],
  ['backoff', 'nullableBag'],
  ['retry', 'nullableBag'],
  ['clock', 'defaultedImplementation'],
  ['logger', 'defaultedImplementation'],
];

const groupOptions: readonly (readonly [string, string, KindName])[] = [
  ['backoff', 'initialDelay', 'defaultedFromZero'],
  ['backoff', 'maxDelay', 'defaultedMaxDelay'],
  ['backoff', 'factor', 'defaultedFactor'],
  ['backoff', 'jitter', 'defaultedFraction'],
  ['retry', 'retries', 'defaultedRetries'],
  ['retry', 'strategy', 'strategy'],
  ['retry', 'delay', 'defaultedFromZero'],
  ['retry', 'factor', 'defaultedFactor'],
  ['retry', 'maxDelay', 'defaultedMaxDelay'],
  ['retry', 'jitter', 'defaultedFraction'],
];

const handlerOptions: readonly (readonly [string, KindName])[] = [
  ['identify', 'defaultedCallback'],
  ['maxBodyBytes', 'defaultedPositive'],
  ['bodyTimeout', 'defaultedPositive'],
  ['logger', 'defaultedImplementation'],
  ['basePath', 'defaultedBasePath'],
];

const clientOptions: readonly (readonly [keyof HttpExternalTaskClientOptions, KindName])[] = [
  ['baseUrl', 'baseUrl'],
  ['token', 'optionalToken'],
  ['identity', 'optionalObject'],
  ['fetch', 'defaultedCallback'],
  ['requestTimeout', 'defaultedPositive'],
];

const handlers = { createHttpHandler, createCamundaRestHandler } as const;

const cases: ParameterCase[] = [
  option('new ExternalTaskApi(options)', 'requiredBag', ['options', 'repository'], (_, value) =>
    new ExternalTaskApi(value as ExternalTaskApiOptions).close(),
  ),
  ...(['repository', 'accessPolicy', 'clock', 'logger'] as const).map((field) =>
    option(
      `new ExternalTaskApi(options.${field})`,
      field === 'repository' ? 'implementation' : 'defaultedImplementation',
      [field],
      (bed, value) => newApi(bed, { [field]: value }),
    ),
  ),
  option('new InMemoryExternalTaskRepository(options)', 'optionalBag', ['options'], (_, value) => {
    new InMemoryExternalTaskRepository(value as never);
  }),
  ...(
    [
      ['clock', 'defaultedImplementation'],
      ['logger', 'defaultedImplementation'],
      ['finalTaskRetention', 'retention'],
      ['changesRetained', 'defaultedPositive'],
      ['changeRetention', 'defaultedPositive'],
    ] as const
  ).map(([field, kind]) =>
    option(`new InMemoryExternalTaskRepository(options.${field})`, kind, [field], (_, value) => {
      new InMemoryExternalTaskRepository({ [field]: value });
    }),
  ),
  option('new ExternalTaskWorker(api)', 'implementation', ['api'], (_, value) => {
    new ExternalTaskWorker(value as never, { topic: 'invoice', handler: () => undefined });
  }),
  option('new ExternalTaskWorker(options)', 'requiredBag', ['options'], (bed, value) => {
    new ExternalTaskWorker(bed.api, value as never);
  }),
  ...workerOptions.map(([field, kind]) =>
    option(`new ExternalTaskWorker(options.${field})`, kind, [`options.${field}`], (bed, value) => {
      newWorker(bed, { [field]: value });
    }),
  ),
  ...groupOptions.map(([group, field, kind]) =>
    option(
      `new ExternalTaskWorker(options.${group}.${field})`,
      kind,
      [`options.${group}.${field}`],
      (bed, value) => {
        newWorker(bed, { [group]: { [field]: value } });
      },
    ),
  ),
  ...Object.entries(handlers).flatMap(([name, create]) => [
    option(`${name}(api)`, 'implementation', ['api'], (_, value) => {
      create(value as never);
    }),
    option(`${name}(options)`, 'optionalBag', ['options'], (bed, value) => {
      create(bed.api, value as never);
    }),
    ...handlerOptions.map(([field, kind]) =>
      option(`${name}(options.${field})`, kind, [field], (bed, value) => {
        create(bed.api, { [field]: value });
      }),
    ),
  ]),
  option('new HttpExternalTaskClient(options)', 'requiredBag', ['options', 'baseUrl'], (_, value) => {
    new HttpExternalTaskClient(value as HttpExternalTaskClientOptions);
  }),
  ...clientOptions.map(([field, kind]) =>
    option(`new HttpExternalTaskClient(options.${field})`, kind, [field], (_, value) => {
      new HttpExternalTaskClient({ baseUrl: 'http://127.0.0.1:1/api/external_task/v1', [field]: value });
    }),
  ),
];

describe('bad input: the options of the constructors and handler factories', () => {
  for (const parameter of cases) {
    it(`${parameter.label}: each hostile value refused naming it, or accepted as documented`, async () => {
      const defects = await tryParameter(parameter);
      expect(defects, listDefects(defects)).to.deep.equal([]);
    });
  }
});
