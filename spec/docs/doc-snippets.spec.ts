import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The pages whose TypeScript blocks must compile as they are (each block is a whole module). */
const pages = ['docs/testing-engines.md', 'docs/adapter-authors.md', 'docs/deployment.md'];

function blocks(page: string): string[] {
  const text = readFileSync(join(root, page), 'utf8');
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] as string);
}

describe('the TypeScript in the testing, adapter and deployment docs', function () {
  this.timeout(60_000);
  const folder = join(root, 'spec', 'docs', '.snippets');
  const files: string[] = [];
  before(() => {
    rmSync(folder, { recursive: true, force: true });
    mkdirSync(folder, { recursive: true });
    for (const page of pages) {
      blocks(page).forEach((code, index) => {
        const file = join(folder, `${page.replace(/\W/g, '-')}-${index}.ts`);
        writeFileSync(file, code);
        files.push(file);
      });
    }
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  it('has blocks to check', () => {
    expect(files.length).to.be.at.least(pages.length);
  });

  it('type-checks under the project’s strict settings, importing the package by its published names', () => {
    const config = ts.getParsedCommandLineOfConfigFile(
      join(root, 'tsconfig.json'),
      {},
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: (diagnostic) =>
          expect.fail(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')),
      },
    );
    const program = ts.createProgram(files, { ...config?.options, noEmit: true });
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((diagnostic) => diagnostic.file && files.includes(diagnostic.file.fileName))
      .map((diagnostic) =>
        ts.formatDiagnostic(diagnostic, {
          ...ts.sys,
          getCanonicalFileName: (f) => f,
          getNewLine: () => '\n',
        }),
      );
    expect(problems).to.deep.equal([]);
  });

  it('runs the engine tests of testing-engines.md in a mocha of their own, and they pass', () => {
    const tests = files.filter((name) => name.includes('testing-engines'));
    const run = spawnSync(
      process.execPath,
      [
        join(root, 'node_modules', 'mocha', 'bin', 'mocha.js'),
        '--no-config',
        '--node-option',
        'import=tsx',
        ...tests,
      ],
      { cwd: root, encoding: 'utf8' },
    );
    expect(run.status, run.stdout + run.stderr).to.equal(0);
    // The stub repository's test, and the two on sinon's default fake timers.
    expect(run.stdout).to.match(/3 passing/);
  });
});
