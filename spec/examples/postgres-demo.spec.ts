import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { adminPool, requireServer, serverUrl } from '../postgres/support.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Runs the demo to its end (bounded), whatever its exit code. */
function runDemo(databaseUrl = serverUrl): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'examples/postgres-demo/engine.ts'],
      {
        cwd: root,
        timeout: 60_000,
        killSignal: 'SIGKILL',
        env: { ...process.env, EXTERNAL_TASK_PG_URL: databaseUrl },
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error.code as number | null) ?? null) : 0, stdout, stderr }),
    );
  });
}

describe('npm run demo:postgres (examples/postgres-demo)', function () {
  this.timeout(90_000);

  before(async function () {
    await requireServer(this);
  });

  it('ends on one clear line, without a stack, when its database does not exist', async () => {
    const missing = new URL(serverUrl);
    missing.pathname = `/et_demo_missing_${process.pid}`;
    const { code, stdout, stderr } = await runDemo(missing.href);

    expect(code, `stdout:\n${stdout}`).to.equal(1);
    expect(stderr.trim().split('\n'), stderr).to.deep.equal([
      `The demo failed: database "et_demo_missing_${process.pid}" does not exist on ${missing.host}${missing.pathname}. Create it (createdb), or set EXTERNAL_TASK_PG_URL to a database that exists.`,
    ]);
  });

  it('runs an engine and two worker processes on one database to a clean end, both workers doing work', async () => {
    const { code, stdout, stderr } = await runDemo();

    expect(code, `exit code; stderr:\n${stderr}\nstdout:\n${stdout}`).to.equal(0);
    expect(stdout).to.match(/engine +starting 2 worker processes/);
    expect(stdout).to.match(/engine +created 12 invoice tasks/);
    expect(stdout).to.match(/worker-A took invoice \d+/);
    expect(stdout).to.match(/worker-B took invoice \d+/);
    expect(stdout).to.match(/engine +invoice \d+ sent by worker-[AB] as INV-/);
    expect(stdout).to.match(/engine +invoice \d+ not sent by worker-[AB] \(NEEDS_APPROVAL/);
    const summary = stdout.slice(stdout.indexOf('Summary:'));
    const done = [...summary.matchAll(/worker-([AB]): (\d+) invoices/g)].map((match) => Number(match[2]));
    expect(done, 'invoices per worker').to.have.length(2);
    expect(
      done.every((count) => count > 0),
      `both workers did work: ${done.join(', ')}`,
    ).to.equal(true);
    expect(done.reduce((a, b) => a + b)).to.equal(12);
    expect(summary).to.contain('sent: 10, held for approval: 2, of 12');

    // It cleaned up after itself: its schema is gone.
    const schema = /schema (et_demo_[0-9a-f]+)/.exec(stdout)?.[1];
    expect(schema, 'the schema the demo named').to.be.a('string');
    const admin = adminPool();
    try {
      const { rowCount } = await admin.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
      expect(rowCount, `schema ${schema} dropped`).to.equal(0);
    } finally {
      await admin.end();
    }
  });
});
