export { InMemoryExternalTaskRepository } from './in-memory-external-task-repository.js';
export type { InMemoryExternalTaskRepositoryOptions } from './in-memory-external-task-repository.js';
