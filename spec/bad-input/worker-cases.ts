import type { FetchAndLockOptions } from '../../lib/index.js';
import { identity, type Bed, type ParameterCase } from './case-runner.js';

const topics = [{ topicName: 'invoice', lockDuration: 1000 }];
const fetchOptions = { workerId: 'w2', topics, maxTasks: 1, longPollingTimeout: 0 };

/** The options form of a fetch with `field` replaced. */
function fetchWith(field: string, value: unknown): FetchAndLockOptions {
  return { ...fetchOptions, [field]: value };
}

type Positional = (bed: Bed, args: unknown[]) => unknown;

/** One case per positional parameter of `operation`; the caller's identity expects a 401. */
function positional(
  surface: string,
  operation: string,
  parameters: readonly (readonly [name: string, kind: ParameterCase['kind']])[],
  defaults: (bed: Bed) => unknown[],
  call: Positional,
): ParameterCase[] {
  const identityCase: ParameterCase = {
    surface,
    label: `${operation}(identity)`,
    kind: 'callerIdentity',
    names: ['identity'],
    refusal: 'unauthorized',
    call: (bed, value) => call(bed, [value, ...defaults(bed)]),
  };
  return [
    identityCase,
    ...parameters.map(([name, kind], index): ParameterCase => ({
      surface,
      label: `${operation}(${name})`,
      kind,
      names: [name],
      call: (bed, value) => {
        const args = defaults(bed);
        args[index] = value;
        return call(bed, [identity, ...args]);
      },
    })),
  ];
}

const heldTask = (bed: Bed): [string, string] => ['w1', bed.held.id];

/**
 * Every parameter of the worker operations (both fetch forms, extendLock, finish, BPMN and service
 * errors under both names, unlock) as cases of `surface`, called on `bed.service`.
 */
export function workerCases(surface: string): ParameterCase[] {
  return [
    ...positional(
      surface,
      'fetchAndLockExternalTasks',
      [
        ['workerId', 'id'],
        ['topicName', 'id'],
        ['maxTasks', 'maxTasks'],
        ['longPollingTimeout', 'longPoll'],
        ['lockDuration', 'duration'],
      ],
      () => ['w2', 'invoice', 1, 0, 1000],
      (bed, args) => (bed.service.fetchAndLockExternalTasks as (...a: unknown[]) => unknown)(...args),
    ),
    {
      surface,
      label: 'fetchAndLock(identity)',
      kind: 'callerIdentity',
      names: ['identity'],
      refusal: 'unauthorized',
      call: (bed, value) => bed.service.fetchAndLock(value as undefined, fetchWith('maxTasks', 1)),
    },
    {
      surface,
      label: 'fetchAndLock(options)',
      kind: 'requiredBag',
      names: ['options', 'topics', 'workerId', 'maxTasks'],
      call: (bed, value) => bed.service.fetchAndLock(identity, value as FetchAndLockOptions),
    },
    ...(
      [
        ['workerId', 'id', ['workerId']],
        ['topics', 'requiredBag', ['topics']],
        ['maxTasks', 'maxTasks', ['maxTasks']],
        ['longPollingTimeout', 'optionalLongPoll', ['longPollingTimeout']],
        ['signal', 'optionalSignal', ['signal']],
      ] as const
    ).map(([field, kind, names]): ParameterCase => ({
      surface,
      label: `fetchAndLock(options.${field})`,
      kind,
      names,
      call: (bed, value) => bed.service.fetchAndLock(identity, fetchWith(field, value)),
    })),
    {
      surface,
      label: 'fetchAndLock(options.topics[0])',
      kind: 'requiredBag',
      names: ['topics[0]', 'topics'],
      call: (bed, value) => bed.service.fetchAndLock(identity, fetchWith('topics', [value])),
    },
    ...(['topicName', 'lockDuration'] as const).map((field): ParameterCase => ({
      surface,
      label: `fetchAndLock(options.topics[0].${field})`,
      kind: field === 'topicName' ? 'id' : 'duration',
      names: [`topics[0].${field}`],
      call: (bed, value) =>
        bed.service.fetchAndLock(identity, fetchWith('topics', [{ ...topics[0], [field]: value }])),
    })),
    ...positional(
      surface,
      'extendLock',
      [
        ['workerId', 'id'],
        ['externalTaskId', 'id'],
        ['additionalDuration', 'duration'],
      ],
      (bed) => [...heldTask(bed), 1000],
      (bed, args) => (bed.service.extendLock as (...a: unknown[]) => unknown)(...args),
    ),
    ...positional(
      surface,
      'finishExternalTask',
      [
        ['workerId', 'id'],
        ['externalTaskId', 'id'],
        ['result', 'json'],
      ],
      (bed) => [...heldTask(bed), { ok: true }],
      (bed, args) => (bed.service.finishExternalTask as (...a: unknown[]) => unknown)(...args),
    ),
    ...positional(
      surface,
      'handleBpmnError',
      [
        ['workerId', 'id'],
        ['externalTaskId', 'id'],
        ['errorCode', 'id'],
        ['errorMessage', 'optionalText'],
      ],
      (bed) => [...heldTask(bed), 'E_CODE', 'message'],
      (bed, args) => (bed.service.handleBpmnError as (...a: unknown[]) => unknown)(...args),
    ),
    ...(['handleServiceError', 'handleSystemError'] as const).flatMap((operation) => [
      ...positional(
        surface,
        operation,
        [
          ['workerId', 'id'],
          ['externalTaskId', 'id'],
          ['errorMessage', 'message'],
          ['errorDetails', 'storableJson'],
          ['options', 'optionalBag'],
        ],
        (bed) => [...heldTask(bed), 'boom', { detail: 1 }, { retries: 1, retryTimeout: 10 }],
        (bed, args) => (bed.service[operation] as (...a: unknown[]) => unknown)(...args),
      ),
      ...(['retries', 'retryTimeout'] as const).map((field): ParameterCase => ({
        surface,
        label: `${operation}(options.${field})`,
        // With a retryTimeout given, retries is required (a delay alone would be ignored).
        kind: field === 'retries' ? 'retries' : 'optionalDelay',
        names: [`options.${field}`],
        call: (bed, value) =>
          bed.service[operation](identity, 'w1', bed.held.id, 'boom', undefined, {
            retries: 1,
            retryTimeout: 10,
            [field]: value,
          }),
      })),
    ]),
    ...positional(
      surface,
      'unlock',
      [
        ['workerId', 'id'],
        ['externalTaskId', 'id'],
      ],
      heldTask,
      (bed, args) => (bed.service.unlock as (...a: unknown[]) => unknown)(...args),
    ),
  ];
}
