import { BadRequestError } from '../../errors/index.js';

/**
 * The names a store's SQL is written against: its schema (a quoted identifier), and the channel of its
 * notifications (a string literal), which is the schema's name.
 */
export interface SqlNames {
  /** The schema as a quoted identifier, e.g. `"external_tasks"`. */
  readonly schema: string;
  /** The notification channel as a string literal, e.g. `'external_tasks'`. */
  readonly channel: string;
  /** The schema's name as written, e.g. `external_tasks`. */
  readonly name: string;
}

/**
 * Lower-case letters, digits and `_`, starting with a letter or `_`, at most 63 characters: a name that
 * PostgreSQL keeps as written, that is a valid channel name, and that is safe to put in SQL text.
 */
const schemaName = /^[a-z_][a-z0-9_]{0,62}$/;

/** Checks a schema name and derives the names the SQL uses from it. */
export function sqlNames(schema: unknown): SqlNames {
  if (typeof schema !== 'string' || !schemaName.test(schema)) {
    throw new BadRequestError(
      'schema',
      'schema must be 1 to 63 lower-case letters, digits or _, starting with a letter or _.',
    );
  }
  return { schema: `"${schema}"`, channel: `'${schema}'`, name: schema };
}
