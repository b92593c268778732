import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import {
  entrySpecifiers,
  installTarball,
  writeConsumer,
  type PackedManifest,
} from './support/scratch-consumer.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Runs node in the scratch project; fails the test with its stderr when it does not exit 0. */
function runNode(project: string, args: readonly string[]): string {
  const run = spawnSync(process.execPath, args, { cwd: project, encoding: 'utf8' });
  expect(run.status, `node ${args.join(' ')}\n${run.stdout}${run.stderr}`).to.equal(0);
  return run.stdout;
}

describe('the packed package, installed in a consumer project', function () {
  this.timeout(180_000);
  let folder: string;
  let tarball: string;
  let project: string;
  let manifest: PackedManifest;
  let entries: string[];

  before(() => {
    folder = mkdtempSync(join(tmpdir(), 'external-task-api-pack-'));
    // `npm pack` runs `prepack` (the build), as a publish does.
    execFileSync('npm', ['pack', '--pack-destination', folder], { cwd: root, stdio: 'pipe' });
    const packed = readdirSync(folder).find((name) => name.endsWith('.tgz'));
    expect(packed, 'npm pack made no tarball').to.be.a('string');
    tarball = join(folder, packed as string);
    project = join(folder, 'consumer');
    mkdirSync(project);
    manifest = installTarball(tarball, project, join(root, 'node_modules'));
    entries = entrySpecifiers(manifest);
    writeConsumer(project, manifest);
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  it('ships the contract suite from lib/, and no spec/ path', () => {
    const packageFolder = join(project, 'node_modules', manifest.name);
    const files = readdirSync(packageFolder, { recursive: true, encoding: 'utf8' });
    expect(files).to.include.members([
      join('dist', 'lib', 'testing', 'contract', 'index.js'),
      join('lib', 'testing', 'contract', 'index.ts'),
    ]);
    expect(files.filter((file) => file.split(sep).includes('spec'))).to.deep.equal([]);
  });

  it('runs no script when installed (it builds on prepack, not prepare)', () => {
    const installScripts = ['preinstall', 'install', 'postinstall', 'prepare'];
    const runOnInstall = Object.keys(manifest.scripts ?? {}).filter((name) => installScripts.includes(name));
    expect(runOnInstall).to.deep.equal([]);
    expect(manifest.scripts).to.have.property('prepack');
  });

  it('loads every entry from ESM (.mjs) and from CommonJS (.cjs), with the same exports', () => {
    const imported = JSON.parse(runNode(project, ['load.mjs'])) as Record<string, string[]>;
    const required = JSON.parse(runNode(project, ['load.cjs'])) as Record<string, string[]>;
    expect(Object.keys(imported)).to.deep.equal(entries);
    for (const entry of entries) expect(imported[entry], entry).to.not.be.empty;
    expect(required).to.deep.equal(imported);
  });

  it('type-checks a strict nodenext TypeScript project (ESM and CommonJS) that imports every entry, whose output runs', () => {
    const tsc = spawnSync(
      process.execPath,
      [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'],
      { cwd: project, encoding: 'utf8' },
    );
    expect(tsc.status, tsc.stdout + tsc.stderr).to.equal(0);
    const expected = { amount: 120, invoiceNumber: 'INV-1', entries: entries.map(() => true) };
    for (const compiled of ['out/consumer.mjs', 'out/consumer.cjs']) {
      expect(JSON.parse(runNode(project, [compiled])), compiled).to.deep.equal(expected);
    }
  });

  it('type-checks a consumer of /postgres without the optional PGlite installed, with skipLibCheck: false', () => {
    const bare = join(folder, 'without-pglite');
    mkdirSync(bare);
    installTarball(tarball, bare, join(root, 'node_modules'), ['@electric-sql/pglite']);
    expect(existsSync(join(bare, 'node_modules', '@electric-sql', 'pglite'))).to.equal(false);
    writeFileSync(
      join(bare, 'package.json'),
      JSON.stringify({ name: 'no-pglite', private: true, type: 'module' }),
    );
    writeFileSync(
      join(bare, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'nodenext',
          strict: true,
          skipLibCheck: false,
          types: ['node'],
          noEmit: true,
        },
        files: ['store.ts'],
      }),
    );
    writeFileSync(
      join(bare, 'store.ts'),
      `import { PostgresExternalTaskRepository, type PostgresConnection } from '${manifest.name}/postgres';
const connection: PostgresConnection = { connectionString: 'postgres://localhost/tasks' };
export const store = new PostgresExternalTaskRepository(connection, { schema: 'tasks' });
`,
    );
    const tsc = spawnSync(
      process.execPath,
      [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'],
      { cwd: bare, encoding: 'utf8' },
    );
    expect(tsc.status, tsc.stdout + tsc.stderr).to.equal(0);
  });

  it('ships declarations whose imports all resolve for the consumer (types of dependencies are dependencies)', () => {
    const packageFolder = join(project, 'node_modules', manifest.name);
    const declarations = readdirSync(join(packageFolder, 'dist'), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.d.ts'))
      .map((file) => join(packageFolder, 'dist', file));
    const options = { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext };
    const unresolved = declarations.flatMap((file) =>
      ts
        .preProcessFile(readFileSync(file, 'utf8'), true, true)
        .importedFiles.map(({ fileName }) => fileName)
        .filter((specifier) => !specifier.startsWith('.') && !specifier.startsWith('node:'))
        .filter((specifier) => {
          const { resolvedModule } = ts.resolveModuleName(
            specifier,
            file,
            options,
            ts.sys,
            undefined,
            undefined,
            ts.ModuleKind.ESNext,
          );
          return !resolvedModule || !resolvedModule.extension.startsWith('.d.');
        })
        .map((specifier) => `${specifier} (imported by ${file.slice(packageFolder.length + 1)})`),
    );
    expect(declarations).to.not.be.empty;
    expect(unresolved).to.deep.equal([]);
  });

  it('maps a stack trace to TypeScript sources that are in the package', () => {
    const stack = runNode(project, ['--enable-source-maps', 'stack.mjs']);
    const packageFolder = join(project, 'node_modules', manifest.name);
    const files = [...stack.matchAll(/(?:file:\/\/)?(\/[^\s():]+):\d+:\d+/g)]
      .map((match) => match[1] as string)
      .filter((file) => file.startsWith(packageFolder));
    expect(files, stack).to.not.be.empty;
    expect(
      files.some((file) => file.endsWith('.ts')),
      stack,
    ).to.equal(true);
    for (const file of files) expect(existsSync(file), `${file} named in\n${stack}`).to.equal(true);
  });
});
