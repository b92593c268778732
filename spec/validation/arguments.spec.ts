import { expect } from 'chai';
import { BadRequestError } from '../../lib/errors/index.js';
import {
  limits,
  optionalString,
  requireDuration,
  requireInteger,
  requireObject,
  requireString,
} from '../../lib/validation/index.js';

/** The BadRequestError `check` throws; fails the test if it does not throw. */
function refusal(check: () => unknown): BadRequestError {
  try {
    check();
  } catch (error) {
    expect(error).to.be.instanceOf(BadRequestError);
    expect((error as BadRequestError).code).to.equal('BAD_REQUEST');
    expect((error as BadRequestError).status).to.equal(400);
    return error as BadRequestError;
  }
  return expect.fail('expected the check to refuse the value');
}

const notStrings: [string, unknown][] = [
  ['undefined', undefined],
  ['null', null],
  ['a number', 42],
  ['a boolean', true],
  ['an object', { id: 'x' }],
  ['an array', ['x']],
  ['a boxed string', new String('x')],
];

describe('argument checks', () => {
  describe('requireString', () => {
    it('returns the string it accepts', () => {
      expect(requireString('workerId', 'worker-1')).to.equal('worker-1');
    });

    it(`accepts ${limits.maxIdLength} characters by default and refuses one more`, () => {
      const longest = 'w'.repeat(limits.maxIdLength);

      expect(requireString('workerId', longest)).to.equal(longest);
      expect(refusal(() => requireString('workerId', `${longest}w`)).argument).to.equal('workerId');
    });

    it('honours a given maximum length', () => {
      expect(requireString('errorMessage', 'abc', 3)).to.equal('abc');
      expect(refusal(() => requireString('errorMessage', 'abcd', 3)).argument).to.equal('errorMessage');
      const long = 'm'.repeat(limits.maxMessageLength);
      expect(requireString('errorMessage', long, limits.maxMessageLength)).to.equal(long);
    });

    it('refuses the empty string, naming the argument', () => {
      expect(refusal(() => requireString('topicName', '')).argument).to.equal('topicName');
    });

    for (const [title, value] of notStrings) {
      it(`refuses ${title}, naming the argument`, () => {
        expect(refusal(() => requireString('topicName', value)).argument).to.equal('topicName');
      });
    }
  });

  describe('optionalString', () => {
    it('passes undefined through', () => {
      expect(optionalString('processModelId', undefined)).to.be.undefined;
    });

    it('returns a string it accepts', () => {
      expect(optionalString('processModelId', 'model')).to.equal('model');
    });

    it('refuses what requireString refuses, other than undefined', () => {
      expect(refusal(() => optionalString('processModelId', '')).argument).to.equal('processModelId');
      expect(refusal(() => optionalString('processModelId', null)).argument).to.equal('processModelId');
      expect(refusal(() => optionalString('processModelId', 7)).argument).to.equal('processModelId');
      expect(refusal(() => optionalString('processModelId', 'm'.repeat(256))).argument).to.equal(
        'processModelId',
      );
    });

    it('honours a given maximum length', () => {
      expect(optionalString('errorMessage', 'abc', 3)).to.equal('abc');
      expect(refusal(() => optionalString('errorMessage', 'abcd', 3)).argument).to.equal('errorMessage');
    });
  });

  describe('requireInteger', () => {
    it('returns integers within the bounds, bounds included', () => {
      expect(requireInteger('maxTasks', 1, 1, 10)).to.equal(1);
      expect(requireInteger('maxTasks', 10, 1, 10)).to.equal(10);
      expect(requireInteger('priority', -5, -10, 10)).to.equal(-5);
      expect(requireInteger('priority', 0, -10, 10)).to.equal(0);
    });

    it('accepts the safe integer extremes when the bounds allow them', () => {
      const { MIN_SAFE_INTEGER: min, MAX_SAFE_INTEGER: max } = Number;

      expect(requireInteger('priority', min, min, max)).to.equal(min);
      expect(requireInteger('priority', max, min, max)).to.equal(max);
    });

    it('refuses values just outside the bounds', () => {
      expect(refusal(() => requireInteger('maxTasks', 0, 1, 10)).argument).to.equal('maxTasks');
      expect(refusal(() => requireInteger('maxTasks', 11, 1, 10)).argument).to.equal('maxTasks');
    });

    const notIntegers: [string, unknown][] = [
      ['a fraction', 1.5],
      ['NaN', NaN],
      ['Infinity', Infinity],
      ['-Infinity', -Infinity],
      ['an unsafe integer', 2 ** 53],
      ['a numeric string', '3'],
      ['a bigint', 3n],
      ['undefined', undefined],
      ['null', null],
      ['a boolean', true],
    ];
    for (const [title, value] of notIntegers) {
      it(`refuses ${title}, naming the argument`, () => {
        const bound = Number.MAX_SAFE_INTEGER;
        expect(refusal(() => requireInteger('maxTasks', value, -bound, bound)).argument).to.equal('maxTasks');
      });
    }
  });

  describe('requireDuration', () => {
    it('accepts 1 ms up to limits.maxDuration (2^31-1 ms)', () => {
      expect(limits.maxDuration).to.equal(2 ** 31 - 1);
      expect(requireDuration('lockDuration', 1)).to.equal(1);
      expect(requireDuration('lockDuration', 60_000)).to.equal(60_000);
      expect(requireDuration('lockDuration', 2 ** 31 - 1)).to.equal(2 ** 31 - 1);
    });

    const invalid: [string, unknown][] = [
      ['zero', 0],
      ['a negative duration', -1],
      ['2^31 ms', 2 ** 31],
      ['a fraction', 0.5],
      ['NaN', NaN],
      ['a numeric string', '1000'],
    ];
    for (const [title, value] of invalid) {
      it(`refuses ${title}, naming the argument`, () => {
        expect(refusal(() => requireDuration('additionalDuration', value)).argument).to.equal(
          'additionalDuration',
        );
      });
    }
  });

  describe('requireObject', () => {
    it('returns the very object it accepts', () => {
      const options = { workerId: 'w' };

      expect(requireObject('options', options)).to.equal(options);
    });

    it('accepts an object without a prototype', () => {
      const bare = Object.create(null) as object;

      expect(requireObject('options', bare)).to.equal(bare);
    });

    const notObjects: [string, unknown][] = [
      ['undefined', undefined],
      ['null', null],
      ['an array', []],
      ['a string', 'options'],
      ['a number', 1],
      ['a function', () => ({})],
    ];
    for (const [title, value] of notObjects) {
      it(`refuses ${title}, naming the argument`, () => {
        expect(refusal(() => requireObject('options', value)).argument).to.equal('options');
      });
    }
  });
});
