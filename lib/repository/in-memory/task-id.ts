import { randomFillSync } from 'node:crypto';

const hexDigits = new TextEncoder().encode('0123456789abcdef');
/** Random bytes drawn 4,096 at a time (256 ids): one system call serves many tasks. */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;
/** The id's 36 characters are written here, then read out as one string. */
const text = Buffer.alloc(36);

/**
 * A new random (version 4) UUID, as `crypto.randomUUID` makes them. Written out as one flat string: the
 * one `randomUUID` answers is built by joining pieces, and a store that keeps it keeps the pieces too —
 * about 480 bytes a task instead of 56.
 */
export function newTaskId(): string {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const start = poolOffset;
  poolOffset += 16;
  pool[start + 6] = (pool[start + 6]! & 0x0f) | 0x40; // version 4
  pool[start + 8] = (pool[start + 8]! & 0x3f) | 0x80; // variant 10xx
  let at = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text[at++] = 0x2d; // '-'
    const byte = pool[start + i]!;
    text[at++] = hexDigits[byte >> 4]!;
    text[at++] = hexDigits[byte & 0x0f]!;
  }
  return text.toString('latin1', 0, 36);
}
