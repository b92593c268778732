import { BadRequestError } from '../../errors/index.js';

/** Argument names of the TypeScript interface that have another name in an HTTP body, by route. */
export type ArgumentRenames = Readonly<Record<string, string>>;

/** The positional fetch sends `topicName` and `lockDuration`; the API checks them as its one topic's. */
export const positionalFetchArguments: ArgumentRenames = {
  'topics[0].topicName': 'topicName',
  'topics[0].lockDuration': 'lockDuration',
};

/** A service error's retry options travel as top-level `retries` and `retryTimeout`. */
export const serviceErrorArguments: ArgumentRenames = {
  'options.retries': 'retries',
  'options.retryTimeout': 'retryTimeout',
};

/** The renames of `renames` the other way round: from the body's names to the interface's. */
export function reversed(renames: ArgumentRenames): ArgumentRenames {
  return Object.fromEntries(Object.entries(renames).map(([from, to]) => [to, from]));
}

/**
 * `error` with its argument renamed by `renames` (its message too, which names it), so that a 400 names
 * the argument as the caller wrote it; any other error as it is.
 */
export function renameArgument(error: unknown, renames: ArgumentRenames): unknown {
  if (!(error instanceof BadRequestError)) return error;
  const renamed = renames[error.argument];
  if (renamed === undefined) return error;
  return new BadRequestError(renamed, error.message.split(error.argument).join(renamed));
}
