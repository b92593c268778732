import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The manifest fields the scratch consumer reads from the packed package. */
export interface PackedManifest {
  readonly name: string;
  readonly exports: Record<string, unknown>;
  readonly scripts?: Record<string, string>;
  readonly dependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
}

/** The import specifiers of every entry a manifest exports (`name`, `name/postgres`, …). */
export function entrySpecifiers(manifest: PackedManifest): string[] {
  return Object.keys(manifest.exports).map((key) => manifest.name + key.slice(1));
}

/**
 * Installs a packed tarball into `project/node_modules` the way npm lays it out, without a registry: the
 * tarball is unpacked as the package, and its dependencies are linked from `modules`, with its peers (a
 * consumer installs those, and their `@types`, itself) and `@types/node`. Only what the packed manifest
 * declares is linked, so a dependency it forgot to declare fails to load, as it would for a consumer.
 * `leaveOut` names packages not to link (an optional peer a consumer did not install).
 */
export function installTarball(
  tarball: string,
  project: string,
  modules: string,
  leaveOut: readonly string[] = [],
): PackedManifest {
  const nodeModules = join(project, 'node_modules');
  const unpacked = join(nodeModules, '.unpacked');
  mkdirSync(unpacked, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', unpacked]);
  const manifest = JSON.parse(
    readFileSync(join(unpacked, 'package', 'package.json'), 'utf8'),
  ) as PackedManifest;
  const target = join(nodeModules, manifest.name);
  mkdirSync(dirname(target), { recursive: true });
  renameSync(join(unpacked, 'package'), target);
  rmSync(unpacked, { recursive: true });
  const peers = Object.keys(manifest.peerDependencies ?? {});
  const installed = [
    ...Object.keys(manifest.dependencies ?? {}),
    ...peers,
    ...peers.map(typesPackageOf),
    '@types/node',
  ];
  for (const name of new Set(installed)) {
    if (leaveOut.includes(name)) continue;
    const source = join(modules, name);
    const link = join(nodeModules, name);
    if (!existsSync(source) || existsSync(link)) continue;
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(source, link, 'dir');
  }
  return manifest;
}

/** The DefinitelyTyped package of `name` (`@scope/pkg` → `@types/scope__pkg`). */
function typesPackageOf(name: string): string {
  return name.startsWith('@types/') ? name : `@types/${name.replace(/^@/, '').replace('/', '__')}`;
}

/**
 * Writes a consumer that loads every entry and prints the sorted export names of each, as JSON: `load.mjs`
 * (import), `load.cjs` (require), and a strict TypeScript project (`module: nodenext`) of one ESM and one
 * CommonJS module that import every entry and use the main one, compiled to `out/`.
 */
export function writeConsumer(project: string, manifest: PackedManifest): void {
  const entries = entrySpecifiers(manifest);
  const list = JSON.stringify(entries);
  const print =
    'console.log(JSON.stringify(Object.fromEntries(loaded.map(([e, m]) => [e, Object.keys(m).sort()]))));';
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'scratch-consumer', private: true }));
  writeFileSync(
    join(project, 'load.mjs'),
    `const loaded = await Promise.all(${list}.map(async (e) => [e, await import(e)]));\n${print}\n`,
  );
  writeFileSync(join(project, 'load.cjs'), `const loaded = ${list}.map((e) => [e, require(e)]);\n${print}\n`);
  writeFileSync(join(project, 'stack.mjs'), stackScript(manifest.name));
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        strict: true,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
        verbatimModuleSyntax: true,
        skipLibCheck: true,
        types: ['node'],
        outDir: 'out',
      },
      files: ['consumer.mts', 'consumer.cts'],
    }),
  );
  writeFileSync(join(project, 'consumer.mts'), typedConsumer(entries, manifest.name, 'import'));
  writeFileSync(join(project, 'consumer.cts'), typedConsumer(entries, manifest.name, 'require'));
}

/**
 * Strict TypeScript that imports every entry and runs a task through the main one with typed payload and
 * result. `verbatimModuleSyntax` makes the CommonJS module use `import x = require()`, which compiles to a
 * plain `require` of the ES module.
 */
function typedConsumer(entries: readonly string[], mainEntry: string, style: 'import' | 'require'): string {
  const imports = entries.map((entry, index) =>
    style === 'import'
      ? `import * as entry${index} from '${entry}';`
      : `import entry${index} = require('${entry}');`,
  );
  const names = entries.map((_, index) => `entry${index}`).join(', ');
  return `${imports.join('\n')}

interface Invoice { readonly customer: string; readonly amount: number }
interface Receipt { readonly invoiceNumber: string }

async function main(): Promise<void> {
  const { ExternalTaskApi, InMemoryExternalTaskRepository } = entry${entries.indexOf(mainEntry)};
  const repository = new InMemoryExternalTaskRepository();
  const api = new ExternalTaskApi({ repository, logger: undefined });
  const invoice: Invoice = { customer: 'ACME', amount: 120 };
  const created = await repository.create({
    topic: 'invoice', correlationId: 'c', processInstanceId: 'p', flowNodeInstanceId: 'f',
    payload: invoice, tenantId: undefined,
  });
  const outcome = api.waitForOutcome<Invoice, Receipt>(created.id, { signal: undefined });
  const identity = { token: 'secret' };
  const [task] = await api.fetchAndLock(identity, {
    workerId: 'w', topics: [{ topicName: 'invoice', lockDuration: 1000 }], maxTasks: 1, longPollingTimeout: undefined,
  });
  if (!task) throw new Error('no task fetched');
  const receipt: Receipt = { invoiceNumber: 'INV-1' };
  await api.finishExternalTask(identity, 'w', task.id, receipt);
  const finished = await outcome;
  const amount: number = finished.payload.amount;
  const invoiceNumber: string | undefined = finished.result?.invoiceNumber;
  await api.close();
  const entries: readonly object[] = [${names}];
  console.log(JSON.stringify({ amount, invoiceNumber, entries: entries.map((entry) => Object.keys(entry).length > 0) }));
}

void main();
`;
}

/** A script that makes the main entry throw, printing the stack trace (run with `--enable-source-maps`). */
function stackScript(mainEntry: string): string {
  return `import { ExternalTaskApi } from '${mainEntry}';
try {
  new ExternalTaskApi(undefined);
} catch (error) {
  console.log(error.stack);
}
`;
}
