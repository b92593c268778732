// @ts-check
import { readFileSync } from 'node:fs';
import { URL } from 'node:url';

/**
 * The API reference (`npm run docs`, to the git-ignored `api-docs/`): one module per entry of the package's
 * `exports`, documented from the TypeScript source its declarations are built from, so an entry added to
 * `exports` is documented too. Warnings are errors: `npm run lint:docs` (part of `npm run lint`) checks the
 * TSDoc with the same settings without writing anything.
 */
const manifest = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

/** `./dist/lib/postgres/index.d.ts` → `./lib/postgres/index.ts` */
const sourceOf = (/** @type {string} */ declarations) =>
  declarations.replace(/^\.\/dist\//, './').replace(/\.d\.ts$/, '.ts');

/** @type {Partial<import('typedoc').TypeDocOptions>} */
export default {
  name: manifest.name,
  entryPoints: Object.values(manifest.exports).map((entry) => sourceOf(entry.types)),
  tsconfig: './tsconfig.build.json',
  out: 'api-docs',
  readme: 'README.md',
  excludePrivate: true,
  excludeInternal: true,
  treatWarningsAsErrors: true,
  // No "defined in" links: they would point at a git remote, which a checkout need not have.
  disableSources: true,
};
