import type { SqlNames } from '../names.js';

/**
 * One step of the schema's history: applied once, in order, inside the migration transaction. Its text
 * is frozen once released — a database migrated before and after an edit would differ — so a change of
 * the schema is a new version, never an edit of an old one (spec/postgres/migration-history.spec.ts pins
 * each version's statements).
 */
export interface Migration {
  readonly version: number;
  readonly description: string;
  /** The statements of the step, run one after the other. */
  statements(names: SqlNames): readonly string[];
}
