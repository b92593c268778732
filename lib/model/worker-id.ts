import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * An id unique to one worker (or one holder of a lease): host (cut to 100 characters), process and a
 * random UUID.
 */
export function defaultWorkerId(): string {
  return `${hostname().slice(0, 100)}-${process.pid}-${randomUUID()}`;
}
