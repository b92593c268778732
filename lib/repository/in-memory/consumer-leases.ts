import type { Clock } from '../../clock/index.js';
import {
  validateConsumerLeaseRequest,
  type AcquireConsumerLeaseRequest,
  type AcquireConsumerLeaseResult,
  type ConsumerLeases,
  type ConsumerLeaseWriteResult,
  type ReleaseConsumerLeaseRequest,
  type RenewConsumerLeaseRequest,
} from '../consumer-leases.js';
import type { ChangePosition } from '../external-task-repository.js';

/** What the store keeps of one name. */
interface NamedConsumer {
  position: ChangePosition | undefined;
  /** Who holds the lease; `undefined`: nobody (released). */
  holder: string | undefined;
  /** When the lease runs out, in ms by the store's clock. */
  expiresAt: number;
}

/**
 * The in-memory store's named consumers: a map from name to position and lease. Each operation runs to
 * completion without yielding, so it is atomic in one Node process.
 */
export class InMemoryConsumerLeases implements ConsumerLeases {
  private readonly consumers = new Map<string, NamedConsumer>();

  constructor(private readonly clock: Clock) {}

  acquire(request: AcquireConsumerLeaseRequest): Promise<AcquireConsumerLeaseResult> {
    return settle(() => {
      const { consumer, holder, leaseDuration } = validateConsumerLeaseRequest(request, 'acquire');
      const now = this.clock.now();
      const kept = this.consumers.get(consumer);
      if (kept?.holder !== undefined && kept.holder !== holder && kept.expiresAt > now)
        return { status: 'held', holder: kept.holder, msUntilExpiry: kept.expiresAt - now };
      const position = kept?.position;
      this.consumers.set(consumer, { position, holder, expiresAt: now + leaseDuration });
      return { status: 'acquired', position };
    });
  }

  renew(request: RenewConsumerLeaseRequest): Promise<ConsumerLeaseWriteResult> {
    return settle(() => {
      const valid = validateConsumerLeaseRequest(request, 'renew');
      return this.writeHeld(valid.consumer, valid.holder, valid.position, (kept) => {
        kept.expiresAt = this.clock.now() + valid.leaseDuration;
      });
    });
  }

  release(request: ReleaseConsumerLeaseRequest): Promise<ConsumerLeaseWriteResult> {
    return settle(() => {
      const valid = validateConsumerLeaseRequest(request, 'release');
      return this.writeHeld(valid.consumer, valid.holder, valid.position, (kept) => {
        kept.holder = undefined;
      });
    });
  }

  /** The check a renewal and a release share — `holder` holds the name — then `write` and the position. */
  private writeHeld(
    consumer: string,
    holder: string,
    position: ChangePosition | undefined,
    write: (kept: NamedConsumer) => void,
  ): ConsumerLeaseWriteResult {
    const kept = this.consumers.get(consumer);
    if (kept?.holder !== holder) return { status: 'lost' };
    write(kept);
    if (position !== undefined && (kept.position === undefined || position > kept.position))
      kept.position = position;
    return { status: 'ok' };
  }
}

/** Runs `body` and answers its result as a promise (a throw rejects). */
function settle<T>(body: () => T): Promise<T> {
  try {
    return Promise.resolve(body());
  } catch (error) {
    return Promise.reject(error);
  }
}
