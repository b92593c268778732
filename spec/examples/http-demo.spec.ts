import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('npm run demo:http (examples/http-demo)', function () {
  this.timeout(60_000);

  it('runs an engine serving HTTP and a worker process using the client to a clean end', async () => {
    const { code, stdout, stderr } = await new Promise<{
      code: number | null;
      stdout: string;
      stderr: string;
    }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'examples/http-demo/engine.ts'],
        { cwd: root, timeout: 45_000, killSignal: 'SIGKILL' },
        (error, out, err) =>
          resolve({ code: error ? ((error.code as number | null) ?? null) : 0, stdout: out, stderr: err }),
      );
    });
    expect(code, `exit code; stderr:\n${stderr}\nstdout:\n${stdout}`).to.equal(0);
    expect(stdout).to.match(/engine +serving http:\/\/127\.0\.0\.1:\d+\/api\/external_task\/v1/);
    expect(stdout).to.match(/worker +took invoice \d+ \(\d+ EUR\) over HTTP/);
    expect(stdout).to.match(/engine +invoice \d+ sent as INV-10\d\d/);
    expect(stdout).to.match(/engine +invoice 4 not sent \(NEEDS_APPROVAL\)/);
    expect(stdout).to.contain('Summary: sent 6, held for approval 2, of 8; the worker reports 6 sent');
  });
});
