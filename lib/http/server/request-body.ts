import type { IncomingMessage } from 'node:http';
import { BadRequestError } from '../../errors/index.js';
import { HttpServerRefusalError } from './http-server-refusal-error.js';

/** The bounds of a request body. */
export interface BodyLimits {
  /** The most bytes a body may have. */
  readonly maxBytes: number;
  /** The most milliseconds the whole body may take to arrive. */
  readonly timeout: number;
}

const jsonMediaType = /^application\/(?:[\w.+-]+\+)?json$/i;

/**
 * Reads the JSON object a request carries, within `limits`: 415 `UNSUPPORTED_MEDIA_TYPE` unless the
 * content type is JSON (in UTF-8), 413 `PAYLOAD_TOO_LARGE` beyond `maxBytes` (refused on the
 * `Content-Length` before reading when it says so), 408 `REQUEST_TIMEOUT` when the body takes longer
 * than `timeout`, and a 400 `BadRequestError` naming `body` when it is not JSON or not an object.
 * A body a framework has parsed already (`req.body`, e.g. Express's `express.json()`) is taken as it is.
 * Rejects with the stream's error when the client goes away.
 */
export async function readJsonObject(
  req: IncomingMessage,
  limits: BodyLimits,
): Promise<Record<string, unknown>> {
  const parsed = (req as { body?: unknown }).body;
  if (parsed !== undefined && req.readableEnded) return requireBodyObject(parsed);
  requireJsonContentType(req);
  const declared = Number(req.headers['content-length']);
  if (declared > limits.maxBytes) throw tooLarge(limits.maxBytes);
  const text = await readText(req, limits);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BadRequestError('body', `The body is not valid JSON: ${(error as Error).message}`);
  }
  return requireBodyObject(value);
}

function requireJsonContentType(req: IncomingMessage): void {
  const [mediaType = '', ...parameters] = (req.headers['content-type'] ?? '').split(';');
  const charset = parameters
    .map((parameter) => parameter.trim().toLowerCase())
    .find((parameter) => parameter.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/"/g, '');
  if (!jsonMediaType.test(mediaType.trim()) || (charset !== undefined && charset !== 'utf-8')) {
    throw new HttpServerRefusalError(
      'UNSUPPORTED_MEDIA_TYPE',
      `The body must be JSON in UTF-8 (Content-Type: application/json), got ${JSON.stringify(req.headers['content-type'] ?? '')}.`,
    );
  }
}

function readText(req: IncomingMessage, { maxBytes, timeout }: BodyLimits): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (error: Error | undefined, text?: string): void => {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', finish).off('aborted', onAborted);
      if (error === undefined) resolve(text ?? '');
      else {
        req.pause();
        reject(error);
      }
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) finish(tooLarge(maxBytes));
      else chunks.push(chunk);
    };
    const onEnd = (): void => finish(undefined, Buffer.concat(chunks).toString('utf8'));
    const onAborted = (): void => finish(new DOMException('The client aborted the request.', 'AbortError'));
    const timer = setTimeout(
      () =>
        finish(
          new HttpServerRefusalError('REQUEST_TIMEOUT', `The body did not arrive within ${timeout} ms.`),
        ),
      timeout,
    );
    req.on('data', onData).on('end', onEnd).on('error', finish).on('aborted', onAborted);
  });
}

function requireBodyObject(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BadRequestError('body', 'The body must be a JSON object.');
  }
  return value as Record<string, unknown>;
}

function tooLarge(maxBytes: number): HttpServerRefusalError {
  return new HttpServerRefusalError('PAYLOAD_TOO_LARGE', `The body is larger than ${maxBytes} bytes.`);
}
