import type pg from 'pg';
import type { Clock } from '../clock/index.js';
import { BadRequestError } from '../errors/index.js';
import type { Logger } from '../logging/index.js';
import type { PgliteInstance } from './driver/pglite-instance.js';
import { checkFinalTaskRetention } from '../repository/final-task-retention-option.js';
import {
  limits,
  optionalBoolean,
  requireInteger,
  requireObject,
  renamedOption,
  requireString,
} from '../validation/index.js';

/**
 * Where the store's database is: a server to open a pool to, a pool of the caller's (never ended by the
 * store), or an embedded PGlite of the caller's (never closed by the store; typed as the
 * {@link PgliteInstance} every `PGlite` is). A caller's pool gives the
 * store's LISTEN connection for as long as the store is open (size it one larger), and its owner handles
 * the pool's `error` events (an idle connection that failed).
 */
export type PostgresConnection =
  { readonly connectionString: string } | { readonly pool: pg.Pool } | { readonly pglite: PgliteInstance };

/** Options of {@link PostgresExternalTaskRepository}. */
export interface PostgresExternalTaskRepositoryOptions {
  /**
   * The schema that holds the store's tables (created by `migrate()`): 1 to 63 lower-case letters, digits
   * or `_`. Its name is also the channel of the store's notifications.
   */
  readonly schema: string;
  /**
   * Where "now" comes from. Without one, the database's clock decides every lock and retry time, so that
   * machines whose clocks differ still agree on when a lock expires; inject one in tests.
   * @default the database's clock
   */
  readonly clock?: Clock | undefined;
  /** Receives what the store cannot throw to a caller (failing listeners, lost connections). @default consoleLogger */
  readonly logger?: Logger | undefined;
  /** Connections of the pool the store opens for a `connectionString` (one more is held for LISTEN). @default 10 */
  readonly poolSize?: number | undefined;
  /**
   * `statement_timeout` of the store's own pool, in ms (0: none). A statement that runs longer is
   * cancelled by the server and its call rejects with `InternalError` (its `cause` the pg error, code
   * `57014`). @default 30,000
   */
  readonly statementTimeout?: number | undefined;
  /** `application_name` of the store's own pool's connections. @default 'external-task-api' */
  readonly applicationName?: string | undefined;
  /**
   * `false` sets `synchronous_commit = off` on the store's own pool's connections: a statement's commit
   * no longer waits for its WAL to reach the disk, which makes each claim and write cheaper (see
   * docs/benchmarks.md). The price: if the server crashes, the commits of its last moments (at most about
   * three times `wal_writer_delay`, 600 ms by default) are lost — claims are undone, so those tasks are
   * handed out again, and outcomes are undone, so those tasks run again. Nothing is corrupted, but the
   * feed's subscribers may already have been handed the changes the crash undid (a commit is visible
   * before it is on disk): an engine may have handled an outcome that is then undone, and the positions of
   * the undone changes are given again to the changes after the crash, which a subscriber that had passed
   * them never gets. Only for a store that opens its pool (`connectionString`): set it on a pool or a
   * PGlite of your own yourself. @default true (every commit is durable before it answers)
   */
  readonly synchronousCommit?: boolean | undefined;
  /**
   * How many of the latest change feed positions are kept for subscribers that resume (a count of
   * positions, not a time); a resume from further back is refused with `ChangeFeedRetentionError`.
   * @default 100,000
   */
  readonly changesRetained?: number | undefined;
  /**
   * @deprecated Use `changesRetained`; removed in the next minor version. Giving both is refused with
   * `BadRequestError`.
   */
  readonly changeRetention?: number | undefined;
  /**
   * How long a finished, failed or cancelled task is kept after it ended, in ms, before a periodic
   * clean-up deletes it (at most 1,000 years); `Infinity` keeps final tasks for good.
   * @default 604,800,000 (7 days)
   */
  readonly finalTaskRetention?: number | undefined;
  /**
   * How often, in real ms, open subscriptions look for changes without a notification: what a lost
   * notification costs at most. @default 2,000
   */
  readonly safetyRecheckInterval?: number | undefined;
  /**
   * @deprecated Use `safetyRecheckInterval`; removed in the next minor version. Giving both is refused
   * with `BadRequestError`.
   */
  readonly safetyRecheckMs?: number | undefined;
}

/** The options after their checks, with defaults applied. */
export interface Settings {
  readonly clock: Clock | undefined;
  readonly poolSize: number;
  readonly statementTimeout: number;
  readonly applicationName: string;
  readonly synchronousCommit: boolean;
  readonly changesRetained: number;
  readonly finalTaskRetention: number;
  readonly safetyRecheckInterval: number;
}

/** Checks the options eagerly, naming the bad one. */
export function checkOptions(options: PostgresExternalTaskRepositoryOptions): Settings {
  requireObject('options', options);
  const finalTaskRetention = checkFinalTaskRetention(options.finalTaskRetention);
  const changesRetained = renamedOption(
    'changesRetained',
    options.changesRetained,
    'changeRetention',
    options.changeRetention,
  );
  const safetyRecheckInterval = renamedOption(
    'safetyRecheckInterval',
    options.safetyRecheckInterval,
    'safetyRecheckMs',
    options.safetyRecheckMs,
  );
  return {
    clock: options.clock,
    poolSize: requireInteger('poolSize', options.poolSize ?? 10, 1, 1000),
    statementTimeout: requireInteger(
      'statementTimeout',
      options.statementTimeout ?? 30_000,
      0,
      limits.maxDuration,
    ),
    applicationName: requireString('applicationName', options.applicationName ?? 'external-task-api', 63),
    synchronousCommit: optionalBoolean('synchronousCommit', options.synchronousCommit) ?? true,
    changesRetained: requireInteger(
      changesRetained.argument,
      changesRetained.value ?? 100_000,
      1,
      Number.MAX_SAFE_INTEGER,
    ),
    finalTaskRetention,
    safetyRecheckInterval: requireInteger(
      safetyRecheckInterval.argument,
      safetyRecheckInterval.value ?? 2000,
      1,
      limits.maxDuration,
    ),
  };
}

/** A connection after its check: which kind it is, and what it holds. */
export type CheckedConnection =
  | { readonly kind: 'connectionString'; readonly connectionString: string }
  | { readonly kind: 'pool'; readonly pool: pg.Pool }
  | { readonly kind: 'pglite'; readonly pglite: PgliteInstance };

/** Checks that exactly one of the three kinds of connection is given. */
export function checkConnection(connection: PostgresConnection): CheckedConnection {
  const fields = requireObject('connection', connection);
  const given = (['connectionString', 'pool', 'pglite'] as const).filter((key) => fields[key] !== undefined);
  const [kind] = given;
  if (given.length !== 1 || kind === undefined) {
    throw new BadRequestError(
      'connection',
      'connection must give exactly one of connectionString, pool, pglite.',
    );
  }
  if (kind === 'connectionString') {
    return { kind, connectionString: requireString('connectionString', fields.connectionString, 10_000) };
  }
  return kind === 'pool'
    ? { kind, pool: fields.pool as pg.Pool }
    : { kind, pglite: fields.pglite as PgliteInstance };
}
