// `npm run test:mutation -- lib/validation [spec/validation/**/*.spec.ts,…]`: StrykerJS on one folder of
// lib/, with the specs given (default: every spec). See stryker.config.mjs and docs/reliability.md.
import { spawnSync } from 'node:child_process';
import process from 'node:process';

const [folder = 'lib/validation', specs] = process.argv.slice(2);
const result = spawnSync('npx', ['stryker', 'run', 'stryker.config.mjs'], {
  stdio: 'inherit',
  env: { ...process.env, MUTATE: folder.replace(/\/$/, ''), ...(specs && { MUTATE_SPECS: specs }) },
});
process.exit(result.status ?? 1);
