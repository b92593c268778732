import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { BadRequestError, systemClock, type ExternalTaskService } from '../../lib/index.js';
import {
  ExternalTaskWorker,
  workerDefaults,
  type ExternalTaskWorkerOptions,
} from '../../lib/worker/index.js';
import { resolveWorkerOptions } from '../../lib/worker/worker-options.js';
import { createStack, identity, stubService, testOptions } from './worker-fixtures.js';

/** How the worker guide writes a default: `5`, `'exponential'`, `{ initialDelay: 1000, … }`. */
function asWritten(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'object' && value !== null) {
    return `{ ${Object.entries(value)
      .map(([key, field]) => `${key}: ${asWritten(field)}`)
      .join(', ')} }`;
  }
  return String(value);
}

/** The default column of the option table of docs/worker-guide.md, by option. */
function guideDefaults(): Map<string, string> {
  const guide = readFileSync(new URL('../../docs/worker-guide.md', import.meta.url), 'utf8');
  const rows = [...guide.matchAll(/^\| `(\w+)` +\| (.+?) +\|/gm)];
  return new Map(rows.map(([, option, written]) => [option as string, written as string]));
}

describe('worker: options', () => {
  const minimal: ExternalTaskWorkerOptions = { topic: 'send-invoice', handler: () => undefined };

  it('applies the documented defaults', () => {
    const resolved = resolveWorkerOptions(minimal);
    expect(resolved).to.deep.include({
      topics: ['send-invoice'],
      identity: undefined,
      concurrency: 5,
      maxTasks: 5,
      lockDuration: 60_000,
      extendLockInterval: 30_000,
      longPollingTimeout: 30_000,
      pollInterval: 1_000,
      stopGracePeriod: 10_000,
      backoff: { initialDelay: 1_000, maxDelay: 30_000, factor: 2, jitter: 0.2 },
      clock: systemClock,
    });
    expect(workerDefaults.concurrency).to.equal(resolved.concurrency);
  });

  it('is what the worker guide’s option table says, field by field', () => {
    const table = guideDefaults();
    for (const [option, value] of Object.entries(workerDefaults)) {
      expect(table.get(option), option).to.equal(`\`${asWritten(value)}\``);
    }
  });

  it('derives maxTasks from concurrency and extendLockInterval from lockDuration', () => {
    const resolved = resolveWorkerOptions({ ...minimal, concurrency: 2_000, lockDuration: 9_001 });
    expect(resolved.maxTasks).to.equal(1_000);
    expect(resolved.extendLockInterval).to.equal(4_500);
  });

  it('keeps 0 where 0 is allowed (defaults are merged with ??, not ||)', () => {
    const resolved = resolveWorkerOptions({
      ...minimal,
      longPollingTimeout: 0,
      pollInterval: 0,
      stopGracePeriod: 0,
      backoff: { initialDelay: 0, jitter: 0 },
    });
    expect(resolved).to.deep.include({ longPollingTimeout: 0, pollInterval: 0, stopGracePeriod: 0 });
    expect(resolved.backoff).to.deep.include({ initialDelay: 0, jitter: 0 });
  });

  it('accepts several topics', () => {
    expect(resolveWorkerOptions({ ...minimal, topic: ['a', 'b'] }).topics).to.deep.equal(['a', 'b']);
  });

  const invalid: [
    string,
    Partial<Record<keyof ExternalTaskWorkerOptions, unknown>>,
    ErrorConstructor,
    RegExp,
  ][] = [
    [
      'a missing topic',
      { topic: undefined },
      TypeError,
      /options\.topic must be a non-empty string, got undefined/,
    ],
    ['an empty topic', { topic: '' }, TypeError, /options\.topic must be a non-empty string, got ""/],
    ['no topics', { topic: [] }, RangeError, /options\.topic must be .*, got an array/],
    ['a bad topic in a list', { topic: ['a', 7] }, TypeError, /options\.topic\[1\] .*, got 7/],
    [
      'a topic listed twice',
      { topic: ['a', 'a'] },
      RangeError,
      /options\.topic must be a list of distinct topics, got "a"/,
    ],
    ['a missing handler', { handler: 'run' }, TypeError, /options\.handler must be a function, got "run"/],
    ['concurrency 0', { concurrency: 0 }, RangeError, /options\.concurrency .*, got 0/],
    [
      'fractional concurrency',
      { concurrency: 1.5 },
      TypeError,
      /options\.concurrency must be an integer, got 1\.5/,
    ],
    ['maxTasks above 1000', { maxTasks: 1_001 }, RangeError, /options\.maxTasks .*1 to 1000, got 1001/],
    ['a negative lockDuration', { lockDuration: -1 }, RangeError, /options\.lockDuration .*, got -1/],
    [
      'lockDuration as a string',
      { lockDuration: '60000' },
      TypeError,
      /options\.lockDuration must be an integer, got "60000"/,
    ],
    [
      'extendLockInterval ≥ lockDuration',
      { lockDuration: 1_000, extendLockInterval: 1_000 },
      RangeError,
      /options\.extendLockInterval .*1 to 999, got 1000/,
    ],
    [
      'a longPollingTimeout above 30 minutes',
      { longPollingTimeout: 1_800_001 },
      RangeError,
      /options\.longPollingTimeout .*, got 1800001/,
    ],
    [
      'NaN pollInterval',
      { pollInterval: NaN },
      TypeError,
      /options\.pollInterval must be an integer, got NaN/,
    ],
    [
      'a negative stopGracePeriod',
      { stopGracePeriod: -5 },
      RangeError,
      /options\.stopGracePeriod .*, got -5/,
    ],
    ['a workerId of ""', { workerId: '' }, TypeError, /options\.workerId must be a non-empty string, got ""/],
    [
      'an identity that is a string',
      { identity: 'token' },
      TypeError,
      /options\.identity must be an object, got "token"/,
    ],
    ['backoff as a number', { backoff: 5 }, TypeError, /options\.backoff must be an object, got 5/],
    [
      'a backoff factor below 1',
      { backoff: { factor: 0.5 } },
      RangeError,
      /options\.backoff\.factor .*, got 0\.5/,
    ],
    ['a jitter above 1', { backoff: { jitter: 2 } }, RangeError, /options\.backoff\.jitter .*, got 2/],
    [
      'maxDelay below initialDelay',
      { backoff: { initialDelay: 500, maxDelay: 100 } },
      RangeError,
      /options\.backoff\.maxDelay .*, got 100/,
    ],
    [
      'a clock without timers',
      { clock: { now: () => 0 } },
      TypeError,
      /options\.clock must be an object with now, setTimeout, clearTimeout/,
    ],
    [
      'a logger without warn',
      { logger: { error: () => undefined } },
      TypeError,
      /options\.logger must be an object with error, warn/,
    ],
  ];
  for (const [label, overrides, ErrorType, message] of invalid) {
    it(`refuses ${label}, naming the option and the value`, () => {
      const options = { ...minimal, ...overrides } as ExternalTaskWorkerOptions;
      expect(() => new ExternalTaskWorker(stubService(), options)).to.throw(ErrorType, message);
    });
  }

  it('refuses a value over a limit in the words the API refuses it with', async () => {
    const { api } = createStack();
    const overLimits = { workerId: 'w'.repeat(256), maxTasks: 1_001 } as const;
    for (const [option, value] of Object.entries(overLimits)) {
      const options = { ...minimal, [option]: value };
      let workerSays = '';
      expect(() => new ExternalTaskWorker(api, options)).to.throw(RangeError);
      try {
        new ExternalTaskWorker(api, options);
      } catch (error) {
        workerSays = (error as Error).message;
      }
      const fetch = { workerId: 'w', topics: [{ topicName: 't', lockDuration: 1 }], maxTasks: 1 };
      const apiSays = await api.fetchAndLock(identity, { ...fetch, [option]: value }).then(
        () => expect.fail(`the API accepted ${option}`),
        (error: unknown) => {
          expect(error).to.be.instanceOf(BadRequestError);
          return (error as BadRequestError).message;
        },
      );
      expect(workerSays).to.equal(`ExternalTaskWorker: options.${apiSays}`);
    }
    await api.close();
  });

  it('refuses an api that is not an ExternalTaskService, naming what it lacks', () => {
    const partial: Partial<ExternalTaskService> = { ...stubService() };
    delete partial.fetchAndLock;
    expect(() => new ExternalTaskWorker(partial as unknown as ExternalTaskService, testOptions())).to.throw(
      TypeError,
      /lacks fetchAndLock/,
    );
    expect(() => new ExternalTaskWorker(null as unknown as ExternalTaskService, testOptions())).to.throw(
      TypeError,
    );
  });

  it('refuses options that are not an object', () => {
    expect(
      () => new ExternalTaskWorker(stubService(), undefined as unknown as ExternalTaskWorkerOptions),
    ).to.throw(TypeError, /options must be an object, got undefined/);
  });
});
