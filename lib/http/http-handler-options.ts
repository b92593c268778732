import { consoleLogger, type Logger } from '../logging/index.js';
import { describeValue, limits } from '../validation/index.js';
import { tokenIdentity, type IdentifyCaller } from './bearer-identity.js';

/** Options of {@link createHttpHandler}. */
export interface HttpHandlerOptions {
  /**
   * Maps the request's bearer token to the identity the access policy sees.
   * @default the token as `{ token }`; no identity without a token
   */
  readonly identify?: IdentifyCaller | undefined;
  /**
   * The largest request body, in bytes; larger bodies are refused with 413.
   * @default 2 MiB (room for a result of the 1 MiB the API accepts, escaped)
   */
  readonly maxBodyBytes?: number | undefined;
  /** How long a request body may take to arrive, in ms; slower bodies are refused with 408. @default 30000 */
  readonly bodyTimeout?: number | undefined;
  /** Where failures answered with 500 are logged (never the token). @default consoleLogger */
  readonly logger?: Logger | undefined;
  /** The path the routes live under. @default '/api/external_task/v1' */
  readonly basePath?: string | undefined;
}

/** {@link HttpHandlerOptions} with every default filled in. */
export interface ResolvedHttpHandlerOptions {
  readonly identify: IdentifyCaller;
  readonly maxBodyBytes: number;
  readonly bodyTimeout: number;
  readonly logger: Logger;
  readonly basePath: string;
}

/** The defaults of {@link HttpHandlerOptions}. */
export const httpHandlerDefaults = Object.freeze({
  maxBodyBytes: 2 * limits.maxJsonBytes,
  bodyTimeout: 30_000,
  basePath: '/api/external_task/v1',
});

/** Who resolves the options: the function named in errors, and its default base path. */
export interface HandlerOptionsOwner {
  readonly name: string;
  readonly basePath: string;
}

const httpHandler: HandlerOptionsOwner = {
  name: 'createHttpHandler',
  basePath: httpHandlerDefaults.basePath,
};

/**
 * Checks `options` eagerly and fills in the defaults (of `owner`'s base path).
 * @throws TypeError or RangeError naming the option and its value
 */
export function resolveHttpHandlerOptions(
  options: HttpHandlerOptions = {},
  owner: HandlerOptionsOwner = httpHandler,
): ResolvedHttpHandlerOptions {
  const { name } = owner;
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${name}: options must be an object, got ${describeValue(options)}.`);
  }
  const { identify = tokenIdentity, logger = consoleLogger } = options;
  if (typeof identify !== 'function') {
    throw new TypeError(`${name}: identify must be a function, got ${describeValue(identify)}.`);
  }
  if (typeof logger?.error !== 'function' || typeof logger.warn !== 'function') {
    throw new TypeError(`${name}: logger must have error and warn methods.`);
  }
  const basePath = options.basePath ?? owner.basePath;
  if (typeof basePath !== 'string' || !/^(\/[^/?#\s]+)+$/.test(basePath)) {
    throw new TypeError(
      `${name}: basePath must be a path like ${owner.basePath} (no trailing slash), got ${describeValue(basePath)}.`,
    );
  }
  return {
    identify,
    logger,
    basePath,
    maxBodyBytes: positiveInteger(
      name,
      'maxBodyBytes',
      options.maxBodyBytes ?? httpHandlerDefaults.maxBodyBytes,
    ),
    bodyTimeout: positiveInteger(name, 'bodyTimeout', options.bodyTimeout ?? httpHandlerDefaults.bodyTimeout),
  };
}

function positiveInteger(owner: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > limits.maxDuration) {
    throw new RangeError(
      `${owner}: ${name} must be an integer from 1 to ${limits.maxDuration}, got ${describeValue(value)}.`,
    );
  }
  return value;
}
