import type { AvailabilityHint } from '../repository/index.js';

/**
 * The store's notifications on its channel (the schema's name), one letter and a payload:
 *
 * - `h[[topic, delay, count], …]`: availability hints of one statement, one per topic (sent by the SQL
 *   function `announce_availability`, schema version 4; split so that no payload passes 8,000 bytes);
 * - `s<position>`: a statement recorded changes up to that position (sent by `record_changes`, schema
 *   versions 2 and 9);
 * - `b<token>`: a barrier a listener sent itself, to know that what was sent before it has arrived
 *   ({@link barrierPayload}).
 *
 * The senders in SQL are frozen with their migrations; this module is the one place that reads the
 * payloads and makes the one this process sends.
 */
export type StoreNotification =
  | { readonly kind: 'hints'; readonly hints: readonly AvailabilityHint[] }
  | { readonly kind: 'recorded'; readonly through: number }
  | { readonly kind: 'barrier'; readonly token: string };

/** The payload of a barrier notification carrying `token`. */
export function barrierPayload(token: string): string {
  return `b${token}`;
}

/**
 * Reads a notification's payload.
 * @throws Error when it is none of the store's notifications (a malformed hint included).
 */
export function parseNotification(payload: string): StoreNotification {
  if (/^s\d+$/.test(payload)) return { kind: 'recorded', through: Number(payload.slice(1)) };
  if (payload.startsWith('b')) return { kind: 'barrier', token: payload.slice(1) };
  if (!payload.startsWith('h')) throw new Error('unknown notification');
  const hints = (JSON.parse(payload.slice(1)) as [string, number, number][]).map(([topic, delay, count]) => ({
    topic,
    delay,
    count,
  }));
  return { kind: 'hints', hints };
}
