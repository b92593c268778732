/** What a stress-worker process tells the test over IPC. */
export type StressMessage = StressReady | StressSummary;

/** The process migrated and its fetch loops run. */
export interface StressReady {
  readonly type: 'ready';
  readonly processIndex: number;
}

/** Sent once the process stopped: what its workers did. */
export interface StressSummary {
  readonly type: 'summary';
  readonly processIndex: number;
  /** Tasks its fetches locked. */
  claims: number;
  /** Outcome reports the store accepted. */
  reports: number;
  /** Lock extensions the store accepted. */
  extensions: number;
  /** Reports or extensions refused with 423 (another worker took the task over). */
  refusedLocked: number;
  /** Reports or extensions refused with 410 (the task already had its outcome). */
  refusedGone: number;
  /** Anything else that went wrong (must stay empty). */
  readonly unexpected: string[];
}
