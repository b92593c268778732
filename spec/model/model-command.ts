import { isDeepStrictEqual } from 'node:util';
import { expect } from 'chai';
import type fc from 'fast-check';
import { BadRequestError, ExternalTaskError } from '../../lib/errors/index.js';
import type { ExpectedError, Prediction, ReferenceModel } from './reference-model.js';
import type { RealSystem } from './real-system.js';
import type { StepChecks } from './step-checks.js';

/** The real side of a run as the commands see it: the system, the checks, and the run's step count. */
export interface ModelReal {
  readonly system: RealSystem;
  readonly checks: StepChecks;
  readonly counts: { steps: number };
}

/** What a call did: answered a value, or threw. */
export type Answer<T> = { readonly value: T } | { readonly thrown: unknown };

/** Calls `call`, keeping what it answered or threw. */
export async function answerOf<T>(call: () => Promise<T>): Promise<Answer<T>> {
  try {
    return { value: await call() };
  } catch (thrown) {
    return { thrown };
  }
}

/** An error as the model names it: class, code, and (for a 400) the argument. */
function describeError(error: unknown): ExpectedError | { name: string; message: string } {
  if (!(error instanceof ExternalTaskError))
    return { name: String(error), message: (error as Error)?.message };
  return {
    name: error.constructor.name as ExpectedError['name'],
    code: error.code,
    ...(error instanceof BadRequestError && { argument: error.argument }),
  };
}

/**
 * Expects the store's `actual` to equal the model's `expected`; a failure shows both (of lists, the
 * places that differ) in full, so that a counterexample says what went wrong.
 */
export function expectSame(actual: unknown, expected: unknown, what: string): void {
  if (isDeepStrictEqual(actual, expected)) return;
  const show = (value: unknown): string =>
    JSON.stringify(value, (_key, inner: unknown) => (inner === undefined ? 'undefined' : inner));
  let shown = `\n  store: ${show(actual)}\n  model: ${show(expected)}`;
  if (Array.isArray(actual) && Array.isArray(expected) && actual.length === expected.length) {
    shown = actual
      .map((item: unknown, place) =>
        isDeepStrictEqual(item, expected[place])
          ? ''
          : `\n  [${place}] store: ${show(item)}\n  [${place}] model: ${show(expected[place])}`,
      )
      .join('');
  }
  expect.fail(`${what} differ:${shown}`);
}

/** Expects `answer` to be what the model predicted; `asModel` turns an answered value into the model's form. */
export function expectAnswer<T, M>(
  answer: Answer<T>,
  predicted: Prediction<M>,
  asModel: (value: T) => M,
  what: string,
): void {
  if ('error' in predicted) {
    expect(
      'thrown' in answer ? describeError(answer.thrown) : { answered: answer.value },
      what,
    ).to.deep.equal(predicted.error);
    return;
  }
  if ('thrown' in answer) expect.fail(`${what} threw ${JSON.stringify(describeError(answer.thrown))}`);
  expectSame(asModel(answer.value), predicted.value, what);
}

/**
 * A step of a run: it calls the real system and the model, compares their answers, then runs the checks
 * every step ends with. `toString` prints the step so that a shrunk counterexample reads as a sequence
 * of calls.
 */
export abstract class ModelCommand implements fc.AsyncCommand<ReferenceModel, ModelReal> {
  check(_model: Readonly<ReferenceModel>): boolean {
    return true;
  }

  async run(model: ReferenceModel, real: ModelReal): Promise<void> {
    await this.step(model, real);
    await real.checks.afterStep(model, real.system, model.takeChanges());
    real.counts.steps++;
  }

  /** Calls the real system and the model and compares their answers. */
  protected abstract step(model: ReferenceModel, real: ModelReal): Promise<void>;

  abstract toString(): string;
}
