import type { ExternalTaskError } from '../errors/index.js';

/**
 * Per operation, the one rejection handler that turns what a call rejects with into the facade's typed
 * error: made at the operation's first call and kept, so that a call costs no closure of its own.
 */
export class TypedRejections {
  private readonly handlers = new Map<string, (error: unknown) => never>();

  /** @param typed - the facade's error for `error`, thrown by `operation` (logged if unexpected). */
  constructor(readonly typed: (error: unknown, operation: string) => ExternalTaskError) {}

  /** The handler of `operation`'s rejections. */
  of(operation: string): (error: unknown) => never {
    let handler = this.handlers.get(operation);
    if (handler === undefined) {
      handler = (error) => {
        throw this.typed(error, operation);
      };
      this.handlers.set(operation, handler);
    }
    return handler;
  }
}
