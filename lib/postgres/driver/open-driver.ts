import { BadRequestError } from '../../errors/index.js';
import type { CheckedConnection, PostgresConnection, Settings } from '../options.js';
import { checkConnection } from '../options.js';
import type { Driver } from './driver.js';
import { PgDriver } from './pg-driver.js';
import { PgliteDriver } from './pglite-driver.js';

/** The driver for a connection: PGlite's, a caller's pool, or a pool the store opens with its settings. */
export function openDriver(
  connection: PostgresConnection,
  settings: Settings,
  onIdleError: (error: unknown) => void,
): Driver {
  const checked: CheckedConnection = checkConnection(connection);
  if (checked.kind !== 'connectionString' && !settings.synchronousCommit) {
    throw new BadRequestError(
      'synchronousCommit',
      `synchronousCommit applies to the pool the store opens; set synchronous_commit on your ${checked.kind} yourself.`,
    );
  }
  switch (checked.kind) {
    case 'pglite':
      return new PgliteDriver(checked.pglite);
    case 'pool':
      return PgDriver.onPool(checked.pool);
    case 'connectionString':
      return PgDriver.create({
        connectionString: checked.connectionString,
        poolSize: settings.poolSize,
        statementTimeout: settings.statementTimeout,
        applicationName: settings.applicationName,
        synchronousCommit: settings.synchronousCommit,
        onIdleError,
      });
  }
}
