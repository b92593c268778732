export {
  asExternalTaskError,
  BadRequestError,
  ChangeFeedRetentionError,
  ExternalTaskError,
  ForbiddenError,
  GoneError,
  InternalError,
  LockedError,
  NotFoundError,
  UnauthorizedError,
} from './external-task-errors.js';
