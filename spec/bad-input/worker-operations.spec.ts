import { expect } from 'chai';
import { listDefects, tryParameter } from './case-runner.js';
import { workerCases } from './worker-cases.js';

describe('bad input: the worker operations of ExternalTaskApi', () => {
  for (const parameter of workerCases('ExternalTaskApi worker operations')) {
    it(`${parameter.label}: each hostile value refused naming it, or accepted as documented`, async () => {
      const defects = await tryParameter(parameter);
      expect(defects, listDefects(defects)).to.deep.equal([]);
    });
  }
});
