export { claimBatcher, claimCall, requireText } from './claim-batch.js';
export type { ClaimCall } from './claim-batch.js';
export { StatementBatcher } from './statement-batcher.js';
export type { StatementBatcherOptions } from './statement-batcher.js';
export { scopeFields, writeBatcher, writeCall, writeResult, type WriteAnswer } from './write-batch.js';
export type { WriteCall } from './write-batch.js';
export { pgliteSharing, serverSharing, type StatementSharing } from './statement-sharing.js';
