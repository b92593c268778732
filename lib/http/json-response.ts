import type { ServerResponse } from 'node:http';

/**
 * Answers `status` with `body` as JSON (UTF-8), unless the response was already sent or the client left.
 * `headers` are added, and may replace the content type (a route set whose clients expect another).
 */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...headers,
    'content-length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

/** Answers 204 without a body. */
export function sendNoContent(res: ServerResponse): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(204, { 'cache-control': 'no-store' });
  res.end();
}
