import type { ServerResponse } from 'node:http';

/**
 * Headers of every answer: never cached, never read as anything but what the content type says, and —
 * when the request's body was not read to its end — the connection closed after the answer, so that the
 * rest of the body is neither read as a next request nor keeps the connection open.
 */
function answerHeaders(res: ServerResponse): Record<string, string> {
  const headers: Record<string, string> = {
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  };
  if (!res.req.complete) headers.connection = 'close';
  return headers;
}

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
    ...answerHeaders(res),
    ...headers,
    'content-length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

/** Answers 204 without a body. */
export function sendNoContent(res: ServerResponse): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(204, answerHeaders(res));
  res.end();
}
