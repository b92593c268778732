import { expect } from 'chai';
import type { ConsumeOutcomesOptions } from '../../lib/index.js';
import { listDefects, tryParameter, type ParameterCase } from './case-runner.js';

const surface = 'waitForOutcome and consumeOutcomes';
const consume = { after: 'now', onOutcome: () => undefined } as const;
const named = { consumer: 'engine', onOutcome: () => undefined } as const;

const cases: ParameterCase[] = [
  {
    surface,
    label: 'waitForOutcome(externalTaskId)',
    kind: 'id',
    names: ['externalTaskId'],
    call: (bed, value) => bed.api.waitForOutcome(value as string),
  },
  {
    surface,
    // The finished task's outcome is answered at once whenever the options are valid.
    label: 'waitForOutcome(options)',
    kind: 'nullableBag',
    names: ['options'],
    call: (bed, value) => bed.api.waitForOutcome(bed.finished.id, value as never),
  },
  {
    surface,
    label: 'waitForOutcome(options.signal)',
    kind: 'optionalSignal',
    names: ['signal'],
    call: (bed, value) => bed.api.waitForOutcome(bed.finished.id, { signal: value as AbortSignal }),
  },
  {
    surface,
    label: 'consumeOutcomes(options)',
    kind: 'requiredBag',
    names: ['options', 'after', 'onOutcome'],
    call: (bed, value) => bed.api.consumeOutcomes(value as ConsumeOutcomesOptions),
  },
  ...(
    [
      ['after', 'outcomesStart'],
      ['onOutcome', 'callback'],
      ['onResync', 'optionalCallback'],
      ['onError', 'optionalCallback'],
    ] as const
  ).map(([field, kind]): ParameterCase => ({
    surface,
    label: `consumeOutcomes(options.${field})`,
    kind,
    names: [field],
    call: (bed, value) => bed.api.consumeOutcomes({ ...consume, [field]: value }),
  })),
  ...(
    [
      ['consumer', 'id'],
      ['leaseDuration', 'defaultedPositive'],
      ['commitInterval', 'defaultedFromZero'],
    ] as const
  ).map(([field, kind]): ParameterCase => ({
    surface,
    label: `consumeOutcomes(options.${field}) of a named consumer`,
    kind,
    // Without a consumer, the options lack `after`: that refusal names it.
    names: field === 'consumer' ? ['consumer', 'after'] : [field],
    call: (bed, value) => bed.api.consumeOutcomes({ ...named, [field]: value }),
  })),
  {
    surface,
    label: 'consumeOutcomes(options.retry)',
    kind: 'optionalBag',
    names: ['retry'],
    call: (bed, value) => bed.api.consumeOutcomes({ ...consume, retry: value as never }),
  },
  ...(
    [
      ['initialDelay', 'defaultedFromZero'],
      ['maxDelay', 'defaultedMaxDelay'],
      ['factor', 'defaultedFactor'],
      ['maxAttempts', 'defaultedAttempts'],
    ] as const
  ).map(([field, kind]): ParameterCase => ({
    surface,
    label: `consumeOutcomes(options.retry.${field})`,
    kind,
    names: [`retry.${field}`],
    call: (bed, value) => bed.api.consumeOutcomes({ ...named, retry: { [field]: value } }),
  })),
];

describe('bad input: waitForOutcome and consumeOutcomes', () => {
  for (const parameter of cases) {
    it(`${parameter.label}: each hostile value refused naming it, or accepted as documented`, async () => {
      const defects = await tryParameter(parameter);
      expect(defects, listDefects(defects)).to.deep.equal([]);
    });
  }
});
