import type { StubRepository } from '../../lib/testing/stub-repository.js';

/**
 * How often the store was read or written (attaching to its feed and hints does not count), to assert
 * it was left alone.
 */
export function storeCalls(repository: StubRepository): number {
  const attaching = new Set(['subscribe', 'watchAvailability', 'simulateChange', 'simulateAvailability']);
  const { consumerLeases, ...methods } = repository;
  return [...Object.entries(methods), ...Object.entries(consumerLeases)]
    .filter(([name]) => !attaching.has(name))
    .reduce((sum, [, stub]) => sum + (stub as { callCount: number }).callCount, 0);
}
