export { PostgresExternalTaskRepository } from './postgres-external-task-repository.js';
export type { PostgresConnection, PostgresExternalTaskRepositoryOptions } from './options.js';
export type { PgliteInstance, PgliteQueryable, PgliteResults } from './driver/pglite-instance.js';
