import { limits, requireInteger, requireObject, requireString } from '../validation/index.js';
import type { ChangePosition } from './external-task-repository.js';

/**
 * Ask for the lease of a named consumer: `holder` consumes `consumer`'s outcomes until `leaseDuration` ms
 * after the store's clock now, unless it renews the lease.
 */
export interface AcquireConsumerLeaseRequest {
  /** The consumer's name, which its replicas share: 1 to 255 characters. */
  readonly consumer: string;
  /** Who asks: an id of one consumption, unique to it (1 to 255 characters). */
  readonly holder: string;
  /** How long the lease holds without a renewal, in ms by the store's clock: 1 to 2^31−1. */
  readonly leaseDuration: number;
}

/** Renew a lease `holder` holds, for `leaseDuration` ms from now, storing the position it handled if given. */
export interface RenewConsumerLeaseRequest extends AcquireConsumerLeaseRequest {
  /**
   * The position of the last change the holder handled (a safe integer from 0): stored, unless the stored
   * one is later (a named position never moves back). @default the stored position stays
   */
  readonly position?: ChangePosition | undefined;
}

/** Give a lease `holder` holds back at once, storing the position it handled if given (as a renewal does). */
export interface ReleaseConsumerLeaseRequest {
  readonly consumer: string;
  readonly holder: string;
  readonly position?: ChangePosition | undefined;
}

/**
 * The answer of {@link ConsumerLeases.acquire}:
 * - `acquired`: the asker holds the lease; `position` is the one stored for the name, `undefined` if none
 *   was ever stored (a name's first start begins at the oldest retained change);
 * - `held`: another `holder` holds it for `msUntilExpiry` more ms by the store's clock (more than 0), unless
 *   it renews or releases it.
 */
export type AcquireConsumerLeaseResult =
  | { readonly status: 'acquired'; readonly position: ChangePosition | undefined }
  | { readonly status: 'held'; readonly holder: string; readonly msUntilExpiry: number };

/**
 * The answer of a renewal or a release: `ok`, or `lost` when the asker is not the name's holder (another
 * took the lease over after it ran out, or it was released), and then nothing changed.
 */
export type ConsumerLeaseWriteResult = { readonly status: 'ok' } | { readonly status: 'lost' };

/**
 * Named consumers' positions and leases, kept by a store: what lets several replicas of an engine share a
 * consumer name, one consuming at a time, resuming from the position the last one stored. Each operation
 * is one atomic, conditional step (compare-and-set), timed by the store's clock:
 * - a lease is free when nobody ever held it, it was released, or its time ran out (its expiry is not
 *   after now); its holder may renew it even after it ran out, as long as nobody took it over;
 * - of racing acquisitions of a free lease exactly one succeeds;
 * - a stored position only moves forward, and only its holder moves it;
 * - none of them is a change of a task: they record nothing in the change feed and send no hint.
 * Invalid arguments reject with `BadRequestError` naming the argument (`request`, `consumer`, `holder`,
 * `leaseDuration`, `position`) and change nothing; {@link validateConsumerLeaseRequest} is the shared check.
 */
export interface ConsumerLeases {
  /** Takes the lease if it is free or already the asker's (then renewed); else answers who holds it. */
  acquire(request: AcquireConsumerLeaseRequest): Promise<AcquireConsumerLeaseResult>;
  /** Renews the lease (and stores `position`) if `holder` holds it, its time run out or not. */
  renew(request: RenewConsumerLeaseRequest): Promise<ConsumerLeaseWriteResult>;
  /** Frees the lease at once (and stores `position`) if `holder` holds it, its time run out or not. */
  release(request: ReleaseConsumerLeaseRequest): Promise<ConsumerLeaseWriteResult>;
}

/** A checked request of {@link ConsumerLeases}: what a release reads of it. */
export interface ValidConsumerLeaseRelease {
  readonly consumer: string;
  readonly holder: string;
  readonly position: ChangePosition | undefined;
}

/** A checked acquisition or renewal (an acquisition's `position` is always `undefined`). */
export interface ValidConsumerLeaseRequest extends ValidConsumerLeaseRelease {
  readonly leaseDuration: number;
}

/**
 * Checks a request of {@link ConsumerLeases}: `'acquire'` and `'renew'` need a `leaseDuration`, `'renew'`
 * and `'release'` may carry a `position` (an acquisition's is not read).
 * @throws `BadRequestError` naming the argument
 */
export function validateConsumerLeaseRequest(
  request: unknown,
  operation: 'acquire' | 'renew',
): ValidConsumerLeaseRequest;
export function validateConsumerLeaseRequest(
  request: unknown,
  operation: 'release',
): ValidConsumerLeaseRelease;
export function validateConsumerLeaseRequest(
  request: unknown,
  operation: 'acquire' | 'renew' | 'release',
): ValidConsumerLeaseRelease | ValidConsumerLeaseRequest {
  const fields = requireObject('request', request);
  const consumer = requireString('consumer', fields.consumer);
  const holder = requireString('holder', fields.holder);
  const position =
    operation === 'acquire' || fields.position === undefined
      ? undefined
      : requireInteger('position', fields.position, 0, Number.MAX_SAFE_INTEGER);
  if (operation === 'release') return { consumer, holder, position };
  const leaseDuration = requireInteger('leaseDuration', fields.leaseDuration, 1, limits.maxDuration);
  return { consumer, holder, leaseDuration, position };
}
