export { describeRepositoryContract } from './contract/index.js';
export type {
  MakeRepositoryTestbed,
  RepositoryContractContext,
  RepositoryContractTestbed,
} from './contract/testbed.js';
export { createStubRepository } from './stub-repository.js';
export type { SimulatedChange, StubRepository } from './stub-repository.js';
export {
  cancelledChange,
  failedChange,
  finishedChange,
  type SimulatedOutcomeOptions,
} from './simulated-changes.js';
export { ManualClock } from '../clock/index.js';
