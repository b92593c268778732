export { describeRepositoryContract } from '../../spec/repository/contract/index.js';
export type {
  MakeRepositoryTestbed,
  RepositoryContractContext,
  RepositoryContractTestbed,
} from '../../spec/repository/contract/testbed.js';
export { createStubRepository } from './stub-repository.js';
export type { StubRepository } from './stub-repository.js';
export { ManualClock } from '../clock/index.js';
