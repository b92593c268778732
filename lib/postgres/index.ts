export { PostgresExternalTaskRepository } from './postgres-external-task-repository.js';
export type { PostgresConnection, PostgresExternalTaskRepositoryOptions } from './options.js';
