import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { docPages, snippetsOf, type Snippet } from './snippets.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('the TypeScript blocks of README.md and docs/', function () {
  this.timeout(60_000);
  const folder = join(root, 'spec', 'docs', '.snippets');
  const pages = docPages(root);
  const snippets = pages.flatMap((page) => snippetsOf(root, page));
  const fileOf = new Map<Snippet, string>();
  let diagnostics: Map<string, string[]>;

  before(() => {
    rmSync(folder, { recursive: true, force: true });
    mkdirSync(folder, { recursive: true });
    for (const snippet of snippets) {
      const file = join(folder, `${snippet.page.replace(/\W/g, '-')}-${snippet.index}.ts`);
      writeFileSync(file, snippet.code);
      fileOf.set(snippet, file);
    }
    diagnostics = typeCheck([...fileOf.values()]);
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  it('covers README.md and every page of docs/, and finds blocks to check', () => {
    expect(pages).to.include.members(['README.md', 'docs/guide.md', 'docs/testing-engines.md']);
    const topLevel = readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md'));
    expect(pages).to.include.members(topLevel.map((name) => `docs/${name}`));
    expect(snippets.filter(({ marker }) => marker !== 'partial')).to.have.length.of.at.least(10);
  });

  it('type-check under the project’s strict settings, importing the package by its published names', () => {
    const problems = snippets
      .filter(({ marker }) => marker !== 'partial')
      .flatMap((snippet) =>
        (diagnostics.get(fileOf.get(snippet) as string) ?? []).map(
          (problem) => `${snippet.page} block ${snippet.index + 1} (line ${snippet.line}): ${problem}`,
        ),
      );
    expect(problems).to.deep.equal([]);
  });

  it('mark a block partial only with a reason, and only while it does not compile', () => {
    const partial = snippets.filter(({ marker }) => marker === 'partial');
    for (const snippet of partial) {
      const where = `${snippet.page} block ${snippet.index + 1} (line ${snippet.line})`;
      expect(snippet.reason, `${where} gives no reason`).to.match(/\w{3,}/);
      expect(diagnostics.get(fileOf.get(snippet) as string), `${where} compiles: drop its marker`).to.not.be
        .empty;
    }
  });

  it('runs the engine tests of testing-engines.md in a mocha of their own, and they pass', () => {
    const tests = snippets
      .filter(({ page, marker }) => page === 'docs/testing-engines.md' && marker !== 'continues')
      .map((snippet) => fileOf.get(snippet) as string);
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

/** The diagnostics of each file, type-checked together under the project's tsconfig.json. */
function typeCheck(files: readonly string[]): Map<string, string[]> {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(root, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) =>
        expect.fail(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')),
    },
  );
  // A snippet may declare what it shows without using it; everything else is as strict as the project.
  const options = { ...config?.options, noEmit: true, noUnusedLocals: false, noUnusedParameters: false };
  const program = ts.createProgram(files, options);
  const byFile = new Map<string, string[]>(files.map((file) => [file, []]));
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const file = diagnostic.file?.fileName;
    if (file === undefined || !byFile.has(file)) continue;
    const { line } = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    byFile.get(file)!.push(`snippet line ${line + 1}: TS${diagnostic.code} ${message}`);
  }
  return byFile;
}
