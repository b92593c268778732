import { HttpServerRefusalError } from './http-server-refusal-error.js';

/** One route of a {@link Router}: a method and a path whose `:name` segments are parameters. */
export interface Route<Context> {
  readonly method: string;
  /** E.g. `/task/:external_task_id/finish`, relative to the router's base path. */
  readonly path: string;
  readonly handle: (context: Context, params: Readonly<Record<string, string>>) => Promise<void>;
}

/** A route that matched a request, with the decoded values of its parameters. */
export interface RouteMatch<Context> {
  readonly route: Route<Context>;
  readonly params: Readonly<Record<string, string>>;
}

/**
 * Finds the route of a request by method and path under a base path. An unknown path is a 404
 * `ROUTE_NOT_FOUND`, a known path asked with another method a 405 `METHOD_NOT_ALLOWED` naming the
 * methods it answers.
 */
export class Router<Context> {
  private readonly routes: readonly { route: Route<Context>; segments: readonly string[] }[];

  constructor(
    /** E.g. `/api/external_task/v1`; no trailing slash. */
    readonly basePath: string,
    routes: readonly Route<Context>[],
  ) {
    this.routes = routes.map((route) => ({ route, segments: route.path.split('/').slice(1) }));
  }

  /** Whether `path` lies under the base path (a router may leave other paths to someone else). */
  owns(path: string): boolean {
    return path === this.basePath || path.startsWith(`${this.basePath}/`);
  }

  /** The route for `method` and `path` (without the query). @throws HttpServerRefusalError 404 or 405 */
  match(method: string, path: string): RouteMatch<Context> {
    const requested = this.owns(path) ? path.slice(this.basePath.length).split('/').slice(1) : undefined;
    const found = requested
      ? this.routes.flatMap(({ route, segments }) => {
          const params = matchSegments(segments, requested);
          return params ? [{ route, params }] : [];
        })
      : [];
    const match = found.find(({ route }) => route.method === method);
    if (match) return match;
    if (found.length === 0) {
      throw new HttpServerRefusalError('ROUTE_NOT_FOUND', `No route ${path} here.`);
    }
    const allow = found.map(({ route }) => route.method);
    throw new HttpServerRefusalError(
      'METHOD_NOT_ALLOWED',
      `${path} answers ${allow.join(', ')}, not ${method}.`,
      allow,
    );
  }
}

function matchSegments(
  pattern: readonly string[],
  requested: readonly string[],
): Record<string, string> | undefined {
  if (pattern.length !== requested.length) return undefined;
  const params: Record<string, string> = {};
  for (const [index, segment] of pattern.entries()) {
    const value = requested[index]!;
    if (segment.startsWith(':')) {
      const decoded = decodeSegment(value);
      if (decoded === undefined || decoded === '') return undefined;
      params[segment.slice(1)] = decoded;
    } else if (segment !== value) return undefined;
  }
  return params;
}

function decodeSegment(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}
