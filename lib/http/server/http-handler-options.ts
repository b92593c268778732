import { requireServiceOperations, tokenAccessPolicy } from '../../api/index.js';
import { consoleLogger, type Logger } from '../../logging/index.js';
import { describeValue, limits } from '../../validation/index.js';
import { tokenIdentity, type IdentifyCaller } from './bearer-identity.js';

/**
 * Options of {@link createHttpHandler}. Something must check the bearer tokens: `identify`, or an
 * `accessPolicy` given to the api; otherwise the handler is refused unless `allowAnyToken` is `true`.
 */
export interface HttpHandlerOptions {
  /**
   * Maps the request's bearer token to the identity the access policy sees (and refuses unknown tokens).
   * @default the token as `{ token }`; no identity without a token
   */
  readonly identify?: IdentifyCaller | undefined;
  /**
   * Serve any bearer token on purpose, though neither `identify` nor the api's `accessPolicy` checks
   * tokens (the default policy only asks for a non-empty one): for a demo, or a network only trusted
   * callers reach. The handler then logs one warning when it is created. @default false
   */
  readonly allowAnyToken?: boolean | undefined;
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
 * Checks `options` eagerly and fills in the defaults (of `owner`'s base path); refuses a handler for
 * `service` that nothing checks tokens of, unless `allowAnyToken` says so (then warns once).
 * @throws TypeError or RangeError naming the option and its value
 */
export function resolveHttpHandlerOptions(
  service: object,
  options: HttpHandlerOptions = {},
  owner: HandlerOptionsOwner = httpHandler,
): ResolvedHttpHandlerOptions {
  const { name } = owner;
  requireServiceOperations(name, service);
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
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
  const resolved = {
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
  requireTokenCheck(service, options, name, logger);
  return resolved;
}

function positiveInteger(owner: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > limits.maxDuration) {
    throw new RangeError(
      `${owner}: ${name} must be an integer from 1 to ${limits.maxDuration}, got ${describeValue(value)}.`,
    );
  }
  return value;
}

/** Refuses a handler nothing checks the tokens of, unless `allowAnyToken` asks for one (then warns). */
function requireTokenCheck(service: object, options: HttpHandlerOptions, name: string, logger: Logger): void {
  const { allowAnyToken = false } = options;
  if (typeof allowAnyToken !== 'boolean') {
    throw new TypeError(`${name}: allowAnyToken must be a boolean, got ${describeValue(allowAnyToken)}.`);
  }
  const policy = (service as { readonly accessPolicy?: unknown }).accessPolicy;
  const checked = options.identify !== undefined || (policy !== undefined && policy !== tokenAccessPolicy);
  if (checked) return;
  if (!allowAnyToken) {
    throw new TypeError(
      `${name}: nothing checks the bearer tokens, so a made-up token would be served. Pass identify ` +
        `(refusing unknown tokens), give the ExternalTaskApi an accessPolicy that checks them, or pass ` +
        `allowAnyToken: true to serve any token on purpose.`,
    );
  }
  logger.warn(`${name}: allowAnyToken is set: any bearer token is served (no identify, no accessPolicy).`);
}
