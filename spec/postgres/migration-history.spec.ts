import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { migrations, sqlNames } from '../../lib/postgres/sql/index.js';

/**
 * The sha256 of each released version's statements, rendered for one fixed schema name. A database that
 * applied a version keeps what that version did, so its text must never change: a change of the schema
 * is a new version (a new file in lib/postgres/sql/migrations/), whose hash is added here.
 */
const released: Readonly<Record<number, string>> = {
  1: '0966bc9b033b83a5ae8fd6921d89073d01feba3ae6150b356068cdecc9a352a1',
  2: '7cc845d837297af8dcfbfd228920aed9d1f55bd8cd0bdf22a1e9704b4b38e6f5',
  3: 'dfddd9582b371c57133ecf97346ff94f4807c7a880c8e0b514fc9abf5c21c57c',
  4: '7acd0a486e339739c5c6127006cdd8bf4b84917b8f883eba7a15937273e5a888',
  5: '6d9cbc9c63967f797cae46ed877b44426692e3239ccfd219b571ba49c3f868f5',
  6: '1b7a4e59c643b03e1be65a51657178bb92fa07e2b56d576aed81d13e0d465eab',
  7: '8012190115bc914df4a38f4ab3ccb8d998f45bef450652c46f9618ca63f41878',
  8: '7deed598a5d38904c44d539ed98ce896bb0ee3856f13539ab0fc1d130a48606f',
  9: 'e9a3d2103d36c1824e5ea755eb937b035db081fbc6d45570e51162b4fb399c08',
  10: '0c3b0346a22c7fbdc0baf36e0223f3ffa91d71a78218312102c3863cafe54dde',
};

const names = sqlNames('frozen_history');

function digest(statements: readonly string[]): string {
  const hash = createHash('sha256');
  for (const statement of statements) hash.update(statement).update('\0');
  return hash.digest('hex');
}

describe('PostgreSQL migration history', () => {
  it('numbers the versions 1, 2, 3, … in order, with no gap', () => {
    expect(migrations.map((migration) => migration.version)).to.deep.equal(
      migrations.map((_, index) => index + 1),
    );
  });

  it('pins every version, and pins no version that does not exist', () => {
    expect(Object.keys(released).map(Number)).to.deep.equal(migrations.map((migration) => migration.version));
  });

  for (const migration of migrations) {
    it(`keeps version ${migration.version} (${migration.description}) exactly as released`, () => {
      expect(digest(migration.statements(names)), `version ${migration.version} changed`).to.equal(
        released[migration.version],
      );
    });
  }

  it('tells one changed character apart (the pin is not blind)', () => {
    const [first] = migrations;
    const statements = [...first!.statements(names)];
    statements[0] = `${statements[0]} `;
    expect(digest(statements)).not.to.equal(released[1]);
  });
});
