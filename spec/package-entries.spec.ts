import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, unknown>;
};
const entries = Object.keys(manifest.exports).map((key) => manifest.name + key.slice(1));

describe('the package entries', function () {
  this.timeout(120_000);

  before(() => {
    // The entries point at the build: build it as CI does.
    execFileSync(
      process.execPath,
      [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
      {
        cwd: root,
      },
    );
  });

  for (const entry of entries) {
    it(`loads ${entry} from CommonJS (require) and from ESM (import), with the same exports`, () => {
      const keysOf = (args: string[]): string[] => {
        const run = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
        expect(run.status, run.stderr).to.equal(0);
        return JSON.parse(run.stdout) as string[];
      };
      const required = keysOf([
        '-e',
        `console.log(JSON.stringify(Object.keys(require(${JSON.stringify(entry)})).sort()))`,
      ]);
      const imported = keysOf([
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(entry)}); console.log(JSON.stringify(Object.keys(m).sort()))`,
      ]);
      expect(required).to.not.be.empty;
      expect(required).to.deep.equal(imported);
    });
  }
});
