import process from 'node:process';

// Mutation testing with StrykerJS: `npm run test:mutation -- <folder of lib/> <specs>` (scripts/mutation.mjs),
// one folder of lib/ per run, each mutant judged by the specs given (the ones that exercise that folder), so
// that a run fits on a small machine. StrykerJS's mocha runner does not support mocha 12 on Node.js 20, so
// the specs run as a command (mocha, as in `npm test`); the TypeScript checker drops mutants that do not
// compile. Not part of CI; the scores are in docs/reliability.md.
const folder = process.env.MUTATE ?? 'lib/validation';
const specs = process.env.MUTATE_SPECS ?? 'spec/**/*.spec.ts';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: [`${folder}/**/*.ts`, `!${folder}/**/index.ts`],
  testRunner: 'command',
  commandRunner: {
    command: `npx mocha --no-config --node-option import=tsx --timeout 20000 --reporter dot ${specs
      .split(',')
      .map((spec) => `'${spec}'`)
      .join(' ')}`,
  },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: 'off',
  concurrency: 2,
  timeoutMS: 30000,
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: `reports/mutation/${folder.replaceAll('/', '-')}.json` },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
