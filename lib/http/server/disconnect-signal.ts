import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * A signal that aborts when the client goes away before `res` was sent in full (it closed the connection
 * or aborted its request), so that whatever works for the response can stop: a waiting long poll ends,
 * and tasks claimed for nobody are handed back. Call it when the request arrives.
 */
export function clientDisconnectSignal(req: IncomingMessage, res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  const gone = (): void => controller.abort(new DOMException('The client disconnected.', 'AbortError'));
  // A request read from the buffer of a connection that has closed since: its response never closes.
  if (req.socket.destroyed) gone();
  else {
    res.once('close', () => {
      if (!res.writableFinished) gone();
    });
  }
  return controller.signal;
}
