import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../logging/index.js';
import type { Identity } from '../../model/index.js';

/** What a route handler gets: the exchange, and the body and identity read on demand. */
export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly logger: Logger;
  /** Aborts when the client goes away before the response was sent (see {@link clientDisconnectSignal}). */
  readonly signal: AbortSignal;
  /** The JSON object of the body, within the handler's limits (see {@link readJsonObject}). */
  body(): Promise<Record<string, unknown>>;
  /** The caller's identity, from the bearer token (see {@link IdentifyCaller}). */
  identity(): Promise<Identity | undefined>;
}
