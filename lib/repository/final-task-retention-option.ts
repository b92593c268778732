import { requireInteger } from '../validation/index.js';

/** The defaults every store shares, in the style of `workerDefaults` and `httpHandlerDefaults`. */
export const repositoryDefaults = Object.freeze({
  /**
   * How long every store keeps a finished, failed or cancelled task by default, in ms: 7 days. Long enough
   * for an engine that was down over a weekend to read the outcomes it missed (`getById`, `query`) and for
   * an operator to look into last week's failures; short enough that a busy store does not grow without
   * bound.
   */
  finalTaskRetention: 7 * 24 * 60 * 60 * 1000,
});

/**
 * The longest finite retention: 1,000 years. A database's timestamps end in the year 294276, so a cut-off
 * of now minus far more cannot be computed; `Infinity` is the way to keep final tasks for good.
 */
const longestFinalTaskRetention = 1000 * 365.25 * 24 * 60 * 60 * 1000;

/**
 * Checks the `finalTaskRetention` option of a store: ms from 0 to 1,000 years, or `Infinity` to keep
 * final tasks for good. @default repositoryDefaults.finalTaskRetention
 */
export function checkFinalTaskRetention(value: number | undefined): number {
  const retention = value ?? repositoryDefaults.finalTaskRetention;
  return retention === Infinity
    ? retention
    : requireInteger('finalTaskRetention', retention, 0, longestFinalTaskRetention);
}
