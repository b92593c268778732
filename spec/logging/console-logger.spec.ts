import { expect } from 'chai';
import sinon from 'sinon';
import { consoleLogger } from '../../lib/index.js';

describe('consoleLogger', () => {
  afterEach(() => sinon.restore());

  it('writes a report and its details as one line', () => {
    const warn = sinon.stub(console, 'warn');
    const details = {
      externalTaskId: 'a1b2c3d4-0000-4000-8000-000000000000',
      topic: 'send-invoice',
      workerId: `${'host'.repeat(20)}-1234-a1b2c3d4-0000-4000-8000-000000000000`,
      attempts: 2,
    };
    consoleLogger.warn('The handler of external task a1 failed.', details);

    expect(warn.callCount).to.equal(1);
    const written = warn.firstCall.args;
    expect(written).to.have.length(1);
    expect(written[0]).to.be.a('string').and.not.include('\n');
    expect(written[0]).to.match(/^\[external-task-api\] The handler of external task a1 failed\. \{ /);
    expect(written[0]).to.include(`workerId: '${details.workerId}'`);
  });

  it('writes errors to console.error, with the stack of an error among the details', () => {
    const error = sinon.stub(console, 'error');
    consoleLogger.error('Fetching failed.', { error: new Error('down') });
    consoleLogger.error('Without details.');

    expect(error.firstCall.args[0])
      .to.include('Fetching failed.')
      .and.match(/Error: down\n\s+at /);
    expect(error.secondCall.args).to.deep.equal(['[external-task-api] Without details.']);
  });
});
