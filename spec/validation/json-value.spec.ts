import { expect } from 'chai';
import { BadRequestError } from '../../lib/errors/index.js';
import type { JsonValue } from '../../lib/model/index.js';
import { copyJsonValue, limits } from '../../lib/validation/index.js';

/** The BadRequestError `copyJsonValue` throws for `value`; fails the test if it accepts it. */
function refusal(value: unknown, argument = 'result'): BadRequestError {
  try {
    copyJsonValue(argument, value);
  } catch (error) {
    expect(error).to.be.instanceOf(BadRequestError);
    expect((error as BadRequestError).code).to.equal('BAD_REQUEST');
    expect((error as BadRequestError).status).to.equal(400);
    return error as BadRequestError;
  }
  return expect.fail(`expected ${String(value)} to be refused`);
}

function expectDeeplyFrozen(value: unknown): void {
  if (typeof value !== 'object' || value === null) return;
  expect(Object.isFrozen(value), `${JSON.stringify(value)} is frozen`).to.equal(true);
  for (const item of Object.values(value)) expectDeeplyFrozen(item);
}

class Invoice {
  constructor(readonly total: number) {}
}

describe('copyJsonValue', () => {
  describe('accepts JSON values', () => {
    const values: [string, JsonValue][] = [
      ['null', null],
      ['true', true],
      ['false', false],
      ['zero', 0],
      ['a negative fraction', -12.5],
      ['the largest number', Number.MAX_VALUE],
      ['an empty string', ''],
      ['a string with unicode', 'Grüße 🚀'],
      ['an empty array', []],
      ['an empty object', {}],
      ['a nested structure', { items: [1, 'two', { three: [true, null] }], meta: { nested: { deep: 'x' } } }],
    ];
    for (const [title, value] of values) {
      it(`returns an equal value for ${title}`, () => {
        expect(copyJsonValue('result', value)).to.deep.equal(value);
      });
    }

    it('accepts an object without a prototype', () => {
      const bare = Object.create(null) as Record<string, unknown>;
      bare.a = 1;

      expect(copyJsonValue('result', bare)).to.deep.equal({ a: 1 });
    });

    it('accepts a sub-object that is referenced twice without a cycle', () => {
      const shared = { sku: 'a', qty: [1, 2] };

      expect(copyJsonValue('result', { first: shared, second: shared })).to.deep.equal({
        first: { sku: 'a', qty: [1, 2] },
        second: { sku: 'a', qty: [1, 2] },
      });
      expect(copyJsonValue('result', [shared, [shared]])).to.deep.equal([
        { sku: 'a', qty: [1, 2] },
        [{ sku: 'a', qty: [1, 2] }],
      ]);
    });
  });

  describe('copies', () => {
    it('returns a copy: changing the input afterwards changes nothing in it', () => {
      const input = { lines: [{ sku: 'a' }], total: 1 };
      const copy = copyJsonValue('result', input) as { lines: { sku: string }[]; total: number };
      input.lines[0]!.sku = 'changed';
      input.lines.push({ sku: 'b' });
      input.total = 2;

      expect(copy).to.not.equal(input);
      expect(copy.lines).to.not.equal(input.lines);
      expect(copy).to.deep.equal({ lines: [{ sku: 'a' }], total: 1 });
    });

    it('returns a deeply frozen value', () => {
      const copy = copyJsonValue('result', { lines: [{ sku: 'a', tags: ['x'] }], meta: {} });

      expectDeeplyFrozen(copy);
      expect(() => {
        (copy as { lines: { sku: string }[] }).lines[0]!.sku = 'changed';
      }).to.throw(TypeError);
    });

    it('leaves the input unfrozen', () => {
      const input = { lines: [1] };
      copyJsonValue('result', input);

      expect(Object.isFrozen(input)).to.equal(false);
      expect(Object.isFrozen(input.lines)).to.equal(false);
    });

    it('drops object properties that are undefined, as JSON.stringify does', () => {
      const copy = copyJsonValue('result', { kept: 1, dropped: undefined, nested: { gone: undefined } });

      expect(copy).to.deep.equal({ kept: 1, nested: {} });
      expect(Object.keys(copy as object)).to.deep.equal(['kept', 'nested']);
    });
  });

  describe('refuses what is not JSON, naming the path', () => {
    const refused: [string, () => unknown, string][] = [
      ['undefined itself', () => undefined, 'result'],
      ['undefined in an array', () => ({ items: [1, undefined] }), 'result.items[1]'],
      ['a function', () => ({ items: [0, () => 1] }), 'result.items[1]'],
      ['a symbol', () => ({ tag: Symbol('s') }), 'result.tag'],
      ['a bigint', () => [1n], 'result[0]'],
      ['NaN', () => ({ amount: NaN }), 'result.amount'],
      ['Infinity', () => ({ amount: Infinity }), 'result.amount'],
      ['-Infinity', () => [-Infinity], 'result[0]'],
      ['a Date', () => ({ at: new Date(0) }), 'result.at'],
      ['a Map', () => new Map([['a', 1]]), 'result'],
      ['a Set', () => ({ tags: new Set(['a']) }), 'result.tags'],
      ['a RegExp', () => [/x/], 'result[0]'],
      ['a class instance', () => ({ invoice: new Invoice(3) }), 'result.invoice'],
      ['a boxed string', () => ({ text: new String('x') }), 'result.text'],
      ['a deep path', () => ({ a: { b: [{ c: [0, 1, { d: () => 0 }] }] } }), 'result.a.b[0].c[2].d'],
    ];
    for (const [title, value, path] of refused) {
      it(`refuses ${title} with argument ${path}`, () => {
        expect(refusal(value()).argument).to.equal(path);
      });
    }

    it('uses the given argument name as the root of the path', () => {
      expect(refusal({ x: [NaN] }, 'errorDetails').argument).to.equal('errorDetails.x[0]');
    });

    it('refuses an object that refers back to itself', () => {
      const loop: Record<string, unknown> = { a: 1 };
      loop.self = loop;

      expect(refusal(loop).argument).to.equal('result.self');
    });

    it('refuses an array that contains itself', () => {
      const loop: unknown[] = [1];
      loop.push([loop]);

      expect(refusal(loop).argument).to.equal('result[1][0]');
    });

    it('refuses an indirect cycle', () => {
      const a: Record<string, unknown> = {};
      const b: Record<string, unknown> = { a };
      a.b = b;

      expect(refusal({ root: a }).argument).to.equal('result.root.b.a');
    });
  });

  describe('size limit', () => {
    it('accepts a value of exactly limits.maxJsonBytes as JSON', () => {
      const text = 'x'.repeat(limits.maxJsonBytes - 2);

      expect(copyJsonValue('payload', text)).to.equal(text);
    });

    it('refuses a value one byte over limits.maxJsonBytes, naming the argument', () => {
      expect(refusal('x'.repeat(limits.maxJsonBytes - 1), 'payload').argument).to.equal('payload');
    });

    it('counts UTF-8 bytes, not characters', () => {
      const euros = '€'.repeat(Math.ceil(limits.maxJsonBytes / 3));

      expect(euros.length).to.be.below(limits.maxJsonBytes);
      expect(refusal(euros, 'payload').argument).to.equal('payload');
    });

    it('counts the whole structure, not single strings', () => {
      const half = 'x'.repeat(limits.maxJsonBytes / 2);

      expect(refusal({ a: half, b: half }, 'payload').argument).to.equal('payload');
    });

    it('counts bytes exactly as JSON.stringify writes them (escapes, surrogates, keys, separators)', () => {
      const value = {
        'quote"': ['back\\slash', '\n\t\u0001', '\ud83d\ude80', '\ud800 lone', -0, 1e21, 0.1, true, null],
        nested: [{}, [], { kept: 'é', dropped: undefined }],
      };
      const bytes = Buffer.byteLength(JSON.stringify(value));
      const filler = (room: number) => ({ ...value, pad: 'x'.repeat(room - bytes - ',"pad":""'.length) });

      const fits = filler(limits.maxJsonBytes);
      expect(JSON.stringify(copyJsonValue('payload', fits))).to.equal(JSON.stringify(fits));
      expect(refusal(filler(limits.maxJsonBytes + 1), 'payload').argument).to.equal('payload');
    });

    it('refuses a value whose shared references expand past the limit, reading no more than the limit allows', () => {
      let reads = 0;
      const counted = (items: unknown[]): unknown[] =>
        new Proxy(items, {
          get(target, key, receiver) {
            // Without a budget the copy would expand 2^64 items: stop it long before that.
            if (++reads > limits.maxJsonBytes) throw new Error('read more than the limit allows');
            return Reflect.get(target, key, receiver) as unknown;
          },
        });
      let value: unknown[] = counted([1]);
      for (let level = 0; level < 64; level++) value = counted([value, value]);

      expect(refusal(value, 'payload').argument).to.equal('payload');
    });

    it('copies a shared sub-value once, however often it is referenced', () => {
      let visits = 0;
      const sparse: Record<string, unknown> = {};
      for (let index = 0; index < 1000; index++) sparse[`k${index}`] = undefined;
      const shared = new Proxy(sparse, {
        ownKeys(target) {
          visits++;
          return Reflect.ownKeys(target);
        },
      });

      const copy = copyJsonValue('payload', new Array<unknown>(10_000).fill(shared));

      expect(copy).to.have.length(10_000);
      expect(JSON.stringify(copy)).to.equal(JSON.stringify(new Array(10_000).fill({})));
      expect(visits).to.equal(1);
      expectDeeplyFrozen((copy as JsonValue[])[0]);
    });

    it('refuses a shared sub-value that is nested too deep at a later place, naming that path', () => {
      let shared: unknown = 'leaf';
      for (let level = 0; level < 60; level++) shared = [shared];
      let deep: unknown = shared;
      for (let level = 0; level < 40; level++) deep = { d: deep };

      const error = refusal([shared, deep], 'payload');

      expect(error.argument).to.equal(`payload[1]${'.d'.repeat(40)}${'[0]'.repeat(59)}`);
    });
  });

  describe('keys named __proto__', () => {
    it('copies a __proto__ key of parsed JSON as an own property, without changing the prototype', () => {
      const input = JSON.parse('{"__proto__": {"isAdmin": true}, "a": 1}') as unknown;

      const copy = copyJsonValue('result', input) as Record<string, unknown>;

      expect(Object.keys(copy)).to.deep.equal(['__proto__', 'a']);
      expect(JSON.stringify(copy)).to.equal('{"__proto__":{"isAdmin":true},"a":1}');
      expect([Object.prototype, null]).to.include(Object.getPrototypeOf(copy));
      expect(copy.isAdmin).to.be.undefined;
    });
  });

  describe('sparse arrays', () => {
    it('does not keep a hole in an array: refuses it like undefined, or turns it into null as JSON does', () => {
      const sparse: unknown[] = [1];
      sparse[2] = 3;

      let copy: JsonValue | undefined;
      try {
        copy = copyJsonValue('result', sparse);
      } catch (error) {
        expect(error).to.be.instanceOf(BadRequestError);
        expect((error as BadRequestError).argument).to.equal('result[1]');
        return;
      }
      expect(1 in (copy as JsonValue[]), 'the copy has a hole at index 1').to.equal(true);
      expect(copy).to.deep.equal([1, null, 3]);
    });
  });
});
