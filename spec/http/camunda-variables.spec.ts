import { expect } from 'chai';
import { BadRequestError } from '../../lib/index.js';
import { payloadVariables, variableValues } from '../../lib/http/camunda/camunda-variables.js';

describe('Camunda variables', () => {
  describe('payloadVariables', () => {
    it('types each top-level property by its value', () => {
      expect(
        payloadVariables({
          s: 'text',
          t: true,
          i: -2_147_483_648,
          l: 2_147_483_648,
          d: 0.5,
          o: { a: [1] },
          a: [],
          n: null,
        }),
      ).to.deep.equal({
        s: { type: 'String', value: 'text', valueInfo: {} },
        t: { type: 'Boolean', value: true, valueInfo: {} },
        i: { type: 'Integer', value: -2_147_483_648, valueInfo: {} },
        l: { type: 'Long', value: 2_147_483_648, valueInfo: {} },
        d: { type: 'Double', value: 0.5, valueInfo: {} },
        o: { type: 'Json', value: '{"a":[1]}', valueInfo: {} },
        a: { type: 'Json', value: '[]', valueInfo: {} },
        n: { type: 'Null', value: null, valueInfo: {} },
      });
    });

    it('types an integer beyond a 64-bit Long as Double, as no Camunda Long can hold it', () => {
      const longest = 2 ** 63 - 1024; // the largest double below 2⁶³
      expect(payloadVariables({ max: longest, min: -(2 ** 63), over: 2 ** 63, huge: 1e300 })).to.deep.equal({
        max: { type: 'Long', value: longest, valueInfo: {} },
        min: { type: 'Long', value: -(2 ** 63), valueInfo: {} },
        over: { type: 'Double', value: 2 ** 63, valueInfo: {} },
        huge: { type: 'Double', value: 1e300, valueInfo: {} },
      });
    });

    it('has no variables for a null payload, and the one variable payload for any other', () => {
      expect(payloadVariables(null)).to.deep.equal({});
      expect(payloadVariables('just text')).to.deep.equal({
        payload: { type: 'String', value: 'just text', valueInfo: {} },
      });
    });

    it('keeps only the names asked for', () => {
      expect(Object.keys(payloadVariables({ a: 1, b: 2, c: 3 }, ['c', 'a', 'z']))).to.deep.equal(['a', 'c']);
    });

    it('filters a wide payload by a long list of names (names looked up in a set, not pairwise)', () => {
      // 20,000 properties and 200,000 names (a 2 MB fetch body): pairwise, 4·10⁹ comparisons, seconds.
      const payload = Object.fromEntries(Array.from({ length: 20_000 }, (_, index) => [`p${index}`, index]));
      const names = Array.from({ length: 200_000 }, (_, index) => `n${index}`).concat('p7');
      expect(payloadVariables(payload, names)).to.deep.equal({
        p7: { type: 'Integer', value: 7, valueInfo: {} },
      });
    });
  });

  describe('variableValues', () => {
    it('decodes each supported type, in any case, and null values of any type', () => {
      expect(
        variableValues(
          {
            s: { type: 'STRING', value: 'x' },
            b: { type: 'boolean', value: false },
            sh: { type: 'Short', value: 7 },
            d: { type: 'Double', value: 1.25 },
            dt: { type: 'Date', value: '2026-01-31T12:00:00.000+0000' },
            j: { type: 'Json', value: '{"a":null}' },
            nv: { type: 'Integer', value: null },
            untyped: { value: [1, 'two'] },
            missing: { type: 'String' },
          },
          'variables',
        ),
      ).to.deep.equal({
        s: 'x',
        b: false,
        sh: 7,
        d: 1.25,
        dt: '2026-01-31T12:00:00.000+0000',
        j: { a: null },
        nv: null,
        untyped: [1, 'two'],
        missing: null,
      });
    });

    it('takes undefined and null as no variables', () => {
      expect(variableValues(undefined, 'variables')).to.deep.equal({});
      expect(variableValues(null, 'variables')).to.deep.equal({});
    });

    it('keeps a variable named __proto__ as a variable', () => {
      const values = variableValues(
        JSON.parse('{"__proto__": {"value": 1, "type": "Integer"}}'),
        'variables',
      );
      expect(Object.getPrototypeOf(values)).to.equal(Object.prototype);
      expect(Object.getOwnPropertyDescriptor(values, '__proto__')?.value).to.equal(1);
    });

    it('describes an unsupported type rather than echo it (a type of 2 MB gives a short message)', () => {
      const type = 'X'.repeat(2_000_000);
      expect(() => variableValues({ a: { type, value: 1 } }, 'variables'))
        .to.throw(BadRequestError)
        .with.property('message')
        .that.satisfies((message: string) => message.length < 200)
        .and.contains('a string of 2000000 characters');
    });

    it('refuses anything else with a BadRequestError naming it', () => {
      const refusals: [unknown, string][] = [
        [[], 'variables'],
        ['text', 'variables'],
        [{ a: 1 }, 'variables.a'],
        [{ a: { type: 'Bytes', value: 'AA==' } }, 'variables.a.type'],
        [{ a: { type: 'constructor', value: 1 } }, 'variables.a.type'],
        [{ a: { type: 3, value: 1 } }, 'variables.a.type'],
        [{ a: { type: 'Boolean', value: 'true' } }, 'variables.a.value'],
        [{ a: { type: 'Long', value: 1.5 } }, 'variables.a.value'],
        [{ a: { type: 'Double', value: '1.5' } }, 'variables.a.value'],
        [{ a: { type: 'Json', value: { already: 'parsed' } } }, 'variables.a.value'],
        [{ a: { type: 'Json', value: 'nope' } }, 'variables.a.value'],
      ];
      for (const [variables, argument] of refusals) {
        expect(() => variableValues(variables, 'variables'), argument)
          .to.throw(BadRequestError)
          .with.property('argument', argument);
      }
    });
  });
});
