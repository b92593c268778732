import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('npm run demo (examples/invoice-demo.ts)', () => {
  it('runs to the end and prints every outcome it promises: finish, BPMN error, retry, incident', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'examples/invoice-demo.ts'],
      {
        cwd: root,
        timeout: 15_000,
      },
    );
    const outcomes = stdout.slice(stdout.indexOf('Outcomes:'));
    expect(outcomes).to.contain('A-100: finished');
    expect(outcomes).to.contain('A-101: failed');
    expect(outcomes).to.contain('A-102: finished');
    expect(outcomes).to.contain('A-103: failed (incident)');
    expect(stdout).to.match(/A-101 failed with a bpmn error: OUT_OF_STOCK/);
    expect(stdout).to.match(/A-102 will be retried/);
    expect(stdout).to.match(
      /worker +The handler of .* failed: "payment gateway .*"\. It is retried in 200 ms/,
    );
    expect(stdout).to.match(
      /Worker stats: .*"finished":2,"bpmnErrors":1,"serviceErrors":4,"retried":3,"incidents":1/,
    );
  });
});
