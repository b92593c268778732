import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { renderedSql, renderedSqlDirectory } from '../../scripts/render-sql.js';

/** Every file under `directory`, as paths relative to it. */
function filesUnder(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(directory, path.join(entry.parentPath, entry.name)))
    .sort();
}

describe('docs/sql: the statements the PostgreSQL store sends, rendered whole', () => {
  const rendered = renderedSql();

  it('holds one file per statement and nothing else (regenerate with npm run docs:sql)', () => {
    expect(filesUnder(renderedSqlDirectory)).to.deep.equal(rendered.map(({ file }) => file).sort());
  });

  for (const { file, text } of rendered) {
    it(`${file} is what the builders make now (regenerate with npm run docs:sql)`, () => {
      const target = path.join(renderedSqlDirectory, file);
      expect(existsSync(target), `${file} is missing`).to.equal(true);
      expect(readFileSync(target, 'utf8')).to.equal(text);
    });
  }
});
