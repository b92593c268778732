import type { IncomingMessage } from 'node:http';
import type { Identity } from '../../model/index.js';

/**
 * Maps the bearer token of a request (`undefined` when there is none) to the identity the
 * `AccessPolicy` sees. It may consult anything of the request (a client certificate, a tenant
 * header, …) and may throw an `UnauthorizedError` or `ForbiddenError` to refuse at once.
 */
export type IdentifyCaller = (
  token: string | undefined,
  request: IncomingMessage,
) => Identity | undefined | Promise<Identity | undefined>;

const bearerPattern = /^Bearer +([^\s]+) *$/i;

/** The token of an `Authorization: Bearer <token>` header, or `undefined` for any other header or none. */
export function bearerToken(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization;
  return header === undefined ? undefined : bearerPattern.exec(header)?.[1];
}

/**
 * The default {@link IdentifyCaller}: the token as `{ token }` (which the default access policy asks
 * for), and no identity without one.
 */
export const tokenIdentity: IdentifyCaller = (token) => (token === undefined ? undefined : { token });
