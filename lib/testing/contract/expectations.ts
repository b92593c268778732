import { expect } from 'chai';
import { BadRequestError } from '../../errors/index.js';
import type { ExternalTask } from '../../model/index.js';
import type {
  AvailabilityHint,
  ConditionalWriteResult,
  ExternalTaskChange,
  SetRetriesResult,
  UnpositionedChange,
} from '../../repository/external-task-repository.js';

// What the contract's cases assert with (chai), and the views of records they compare.

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

export function ids(tasks: readonly { readonly id: string }[]): string[] {
  return tasks.map((task) => task.id);
}

/** The task of a result that carries one; fails the test otherwise. */
export function taskOf(result: ConditionalWriteResult | SetRetriesResult): ExternalTask {
  if (result.status === 'not-found') return expect.fail('expected the result to carry a task');
  return result.task;
}

/** The error `promise` rejects with; fails the test if it fulfils. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return expect.fail('expected the promise to reject');
}

/** Expects `promise` to reject with a {@link BadRequestError} naming `argument`. */
export async function expectBadRequest(promise: Promise<unknown>, argument: string): Promise<void> {
  const error = await rejectionOf(promise);
  expect(error).to.be.instanceOf(BadRequestError);
  expect(error).to.include({ status: 400, code: 'BAD_REQUEST', argument });
}

/**
 * Runs a write on a record handed out. Records may be frozen (then the write throws a TypeError in
 * strict mode) or detached copies; either way the store must not change.
 */
export function tryToChange(write: () => void): void {
  try {
    write();
  } catch (error) {
    expect(error).to.be.instanceOf(TypeError);
  }
}

/** A change without its position, for comparing what happened regardless of where the feed put it. */
export function withoutPosition(change: ExternalTaskChange): UnpositionedChange {
  const { position: _position, ...rest } = change;
  return rest;
}

/**
 * Expects `batch` to hold exactly one hint per expected topic, in any order, with the given delay; a
 * `count`, where the store gives one, must be the expected one.
 */
export function expectHints(
  batch: readonly AvailabilityHint[] | undefined,
  expected: readonly { topic: string; delay: number; count?: number }[],
): void {
  expect(batch, 'a batch of hints').to.not.equal(undefined);
  expect(batch!.map((hint) => hint.topic)).to.have.members(expected.map((hint) => hint.topic));
  for (const hint of batch!) {
    const wanted = expected.find((candidate) => candidate.topic === hint.topic)!;
    expect(hint.delay, `delay of the hint for ${hint.topic}`).to.equal(wanted.delay);
    if (hint.count !== undefined && wanted.count !== undefined) {
      expect(hint.count, `count of the hint for ${hint.topic}`).to.equal(wanted.count);
    }
  }
}

/** Expects a task given back without an outcome (unlocked, or waiting for a retry): pending and held by nobody. */
export function expectGivenBack(task: ExternalTask): void {
  expect(task.state).to.equal('pending');
  expect(task).to.not.have.property('workerId');
  expect(task).to.not.have.property('lockExpirationTime');
  expect(task).to.not.have.property('finishedAt');
}
