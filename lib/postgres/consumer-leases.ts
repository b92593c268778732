import {
  validateConsumerLeaseRequest,
  type AcquireConsumerLeaseRequest,
  type AcquireConsumerLeaseResult,
  type ConsumerLeases,
  type ConsumerLeaseWriteResult,
  type ReleaseConsumerLeaseRequest,
  type RenewConsumerLeaseRequest,
} from '../repository/consumer-leases.js';
import type { Queryable } from './driver/driver.js';
import type { StoreStatements } from './sql/index.js';
import type { StoreCalls } from './store-calls.js';

/**
 * The PostgreSQL store's named consumers (table `consumers`, schema version 10): each operation one
 * conditional statement (see `sql/consumer-leases.ts`), run as the store's calls are (refused once the
 * store is closed; a database failure is an `InternalError`).
 */
export class PostgresConsumerLeases implements ConsumerLeases {
  private readonly statements: StoreStatements['consumerLeases'];

  constructor(
    private readonly calls: StoreCalls,
    private readonly database: Queryable,
    statements: StoreStatements,
    /** The time the statements use: the injected clock's, or null for the database's own. */
    private readonly now: () => number | null,
  ) {
    this.statements = statements.consumerLeases;
  }

  acquire(request: AcquireConsumerLeaseRequest): Promise<AcquireConsumerLeaseResult> {
    return this.calls.run(async () => {
      const { consumer, holder, leaseDuration } = validateConsumerLeaseRequest(request, 'acquire');
      // A lease that ran out or was released between the refusal and its read is asked for again.
      for (;;) {
        const now = this.now();
        const [taken] = await this.database.query<{ position: number | null }>(this.statements.acquire, [
          now,
          consumer,
          holder,
          leaseDuration,
        ]);
        if (taken) return { status: 'acquired', position: taken.position ?? undefined };
        const [held] = await this.database.query<{ holder: string | null; ms: number }>(
          this.statements.holder,
          [now, consumer],
        );
        if (held?.holder != null && held.ms > 0)
          return { status: 'held', holder: held.holder, msUntilExpiry: held.ms };
      }
    });
  }

  renew(request: RenewConsumerLeaseRequest): Promise<ConsumerLeaseWriteResult> {
    return this.calls.run(async () => {
      const { consumer, holder, leaseDuration, position } = validateConsumerLeaseRequest(request, 'renew');
      const rows = await this.database.query(this.statements.renew, [
        this.now(),
        consumer,
        holder,
        leaseDuration,
        position ?? null,
      ]);
      return { status: rows.length > 0 ? 'ok' : 'lost' };
    });
  }

  release(request: ReleaseConsumerLeaseRequest): Promise<ConsumerLeaseWriteResult> {
    return this.calls.run(async () => {
      const { consumer, holder, position } = validateConsumerLeaseRequest(request, 'release');
      const rows = await this.database.query(this.statements.release, [consumer, holder, position ?? null]);
      return { status: rows.length > 0 ? 'ok' : 'lost' };
    });
  }
}
