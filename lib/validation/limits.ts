/**
 * The bounds every argument is checked against (spec §7). Values outside them are refused with a
 * {@link BadRequestError} naming the argument; nothing is truncated.
 */
export const limits = Object.freeze({
  /** Ids, worker ids, topic names and error codes: 1 to 255 characters. */
  maxIdLength: 255,
  /** Error messages: up to 10,000 characters. */
  maxMessageLength: 10_000,
  /** Payloads, results and error details: up to 1 MiB as UTF-8 JSON. */
  maxJsonBytes: 1024 * 1024,
  /** ... nested at most 100 arrays or objects deep. */
  maxJsonDepth: 100,
  /** `maxTasks`: 1 to 1,000 per fetch. */
  maxTasks: 1000,
  /** `longPollingTimeout`: 0 to 30 minutes. */
  maxLongPollingTimeout: 30 * 60 * 1000,
  /** `lockDuration` and `additionalDuration`: 1 ms to 2^31-1 ms (the longest a Node timer can wait). */
  maxDuration: 2 ** 31 - 1,
  /** Topics in one fetch. */
  maxTopics: 100,
  /** A retry budget: 0 to 1,000,000. */
  maxRetries: 1_000_000,
});
