import type { ServerResponse } from 'node:http';

/**
 * A signal that aborts when the client goes away before `res` was sent in full (it closed the connection
 * or aborted its request), so that whatever works for the response can stop: a waiting long poll ends,
 * and tasks claimed for nobody are handed back.
 */
export function clientDisconnectSignal(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) {
      controller.abort(new DOMException('The client disconnected.', 'AbortError'));
    }
  });
  return controller.signal;
}
