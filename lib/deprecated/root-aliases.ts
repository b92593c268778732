/*
 * The names the root entry exported before store authors got their own entry, `external-task-api/repository`,
 * kept for one minor version so that no code importing them from the root breaks. Each is the very object
 * (or type) of its new home.
 */
import * as clock from '../clock/index.js';
import * as repository from '../repository/index.js';

/** @deprecated Use `inScope` from `external-task-api/repository`; removed in the next minor version. */
export const inScope = repository.inScope;
/** @deprecated Use `subscriptionStart` from `external-task-api/repository`; removed in the next minor version. */
export const subscriptionStart = repository.subscriptionStart;
/** @deprecated Use `validateCancelSelector` from `external-task-api/repository`; removed in the next minor version. */
export const validateCancelSelector = repository.validateCancelSelector;
/** @deprecated Use `validateChangeSubscriber` from `external-task-api/repository`; removed in the next minor version. */
export const validateChangeSubscriber = repository.validateChangeSubscriber;
/** @deprecated Use `validateCountFilter` from `external-task-api/repository`; removed in the next minor version. */
export const validateCountFilter = repository.validateCountFilter;
/** @deprecated Use `validateFinalTaskSelector` from `external-task-api/repository`; removed in the next minor version. */
export const validateFinalTaskSelector = repository.validateFinalTaskSelector;
/** @deprecated Use `validateNewTask` from `external-task-api/repository`; removed in the next minor version. */
export const validateNewTask = repository.validateNewTask;
/** @deprecated Use `validateNewTasks` from `external-task-api/repository`; removed in the next minor version. */
export const validateNewTasks = repository.validateNewTasks;
/** @deprecated Use `validateQuery` from `external-task-api/repository`; removed in the next minor version. */
export const validateQuery = repository.validateQuery;
/** @deprecated Use `validateRequestShape` from `external-task-api/repository`; removed in the next minor version. */
export const validateRequestShape = repository.validateRequestShape;
/** @deprecated Use `validateScope` from `external-task-api/repository`; removed in the next minor version. */
export const validateScope = repository.validateScope;
/** @deprecated Use `validateSetPriority` from `external-task-api/repository`; removed in the next minor version. */
export const validateSetPriority = repository.validateSetPriority;
/** @deprecated Use `validateSetRetries` from `external-task-api/repository`; removed in the next minor version. */
export const validateSetRetries = repository.validateSetRetries;
/** @deprecated Use `validateTopicNames` from `external-task-api/repository`; removed in the next minor version. */
export const validateTopicNames = repository.validateTopicNames;
/** @deprecated Use `frozenRecord` from `external-task-api/repository`; removed in the next minor version. */
export const frozenRecord = repository.frozenRecord;
/** @deprecated Use `repositoryDefaults.finalTaskRetention` from `external-task-api/repository`; removed in the next minor version. */
export const defaultFinalTaskRetention = repository.repositoryDefaults.finalTaskRetention;
/** @deprecated Use `AvailabilityHint` from `external-task-api/repository`; removed in the next minor version. */
export type AvailabilityHint = repository.AvailabilityHint;
/** @deprecated Use `AvailabilityListener` from `external-task-api/repository`; removed in the next minor version. */
export type AvailabilityListener = repository.AvailabilityListener;
/** @deprecated Use `AvailabilityWatch` from `external-task-api/repository`; removed in the next minor version. */
export type AvailabilityWatch = repository.AvailabilityWatch;
/** @deprecated Use `ChangeFeed` from `external-task-api/repository`; removed in the next minor version. */
export type ChangeFeed = repository.ChangeFeed;
/** @deprecated Use `ChangeFeedResync` from `external-task-api/repository`; removed in the next minor version. */
export type ChangeFeedResync = repository.ChangeFeedResync;
/** @deprecated Use `ChangeSubscriber` from `external-task-api/repository`; removed in the next minor version. */
export type ChangeSubscriber = repository.ChangeSubscriber;
/** @deprecated Use `ClaimRequest` from `external-task-api/repository`; removed in the next minor version. */
export type ClaimRequest = repository.ClaimRequest;
/** @deprecated Use `CompleteRequest` from `external-task-api/repository`; removed in the next minor version. */
export type CompleteRequest = repository.CompleteRequest;
/** @deprecated Use `ConditionalWriteResult` from `external-task-api/repository`; removed in the next minor version. */
export type ConditionalWriteResult = repository.ConditionalWriteResult;
/** @deprecated Use `ExtendLockRequest` from `external-task-api/repository`; removed in the next minor version. */
export type ExtendLockRequest = repository.ExtendLockRequest;
/** @deprecated Use `HeldTaskRequest` from `external-task-api/repository`; removed in the next minor version. */
export type HeldTaskRequest = repository.HeldTaskRequest;
/** @deprecated Use `RetryRequest` from `external-task-api/repository`; removed in the next minor version. */
export type RetryRequest = repository.RetryRequest;
/** @deprecated Use `SetRetriesResult` from `external-task-api/repository`; removed in the next minor version. */
export type SetRetriesResult = repository.SetRetriesResult;
/** @deprecated Use `UnlockRequest` from `external-task-api/repository`; removed in the next minor version. */
export type UnlockRequest = repository.UnlockRequest;
/** @deprecated Use `UnpositionedChange` from `external-task-api/repository`; removed in the next minor version. */
export type UnpositionedChange = repository.UnpositionedChange;
/** @deprecated Use `ValidNewTask` from `external-task-api/repository`; removed in the next minor version. */
export type ValidNewTask = repository.ValidNewTask;
/** @deprecated Use `ValidQuery` from `external-task-api/repository`; removed in the next minor version. */
export type ValidQuery = repository.ValidQuery;
/** @deprecated Use `ManualClock` from `external-task-api/testing`; removed in the next minor version. */
export const ManualClock = clock.ManualClock;
/** @deprecated Use `ManualClock` from `external-task-api/testing`; removed in the next minor version. */
export type ManualClock = clock.ManualClock;
