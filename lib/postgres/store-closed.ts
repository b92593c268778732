import { InternalError } from '../errors/index.js';

/** The error of a call that a closed PostgreSQL store refuses. */
export function storeClosedError(): InternalError {
  return new InternalError('The PostgreSQL store is closed: open a new one to go on.');
}
