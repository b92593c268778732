import { expect } from 'chai';

/**
 * How long (in real ms) the suite waits for an asynchronous store to deliver what it has already
 * committed (changes, hints) before it fails the case. Only a bound on waiting: no case sleeps.
 */
const DELIVERY_TIMEOUT_MS = 5000;

/** Waits, a turn of the event loop at a time, until `done()` holds; fails saying what it waited for. */
export async function waitUntil(done: () => boolean, waitingFor: () => string): Promise<void> {
  const deadline = performance.now() + DELIVERY_TIMEOUT_MS;
  while (!done()) {
    if (performance.now() > deadline) {
      expect.fail(`gave up after ${DELIVERY_TIMEOUT_MS} ms waiting for ${waitingFor()}`);
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** A few turns of the event loop: room for a store to do what it must not. */
export async function someTurns(): Promise<void> {
  for (let turn = 0; turn < 20; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A promise the case resolves when it chooses. */
export function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}
