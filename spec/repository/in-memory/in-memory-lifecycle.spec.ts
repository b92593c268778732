import { InMemoryExternalTaskRepository } from '../../../lib/repository/index.js';
import { behavesLikeAnExternalTaskRepositoryThroughTheLifecycle } from '../external-task-repository.lifecycle.behaviour.js';

describe('InMemoryExternalTaskRepository: task lifecycle', () => {
  behavesLikeAnExternalTaskRepositoryThroughTheLifecycle(() => new InMemoryExternalTaskRepository());
});
