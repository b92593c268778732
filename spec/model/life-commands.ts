import { expect } from 'chai';
import type { ExternalTaskChange } from '../../lib/repository/index.js';
import { waitUntil } from '../../lib/testing/contract/waiting.js';
import { ModelCommand, type ModelReal } from './model-command.js';
import type { ReferenceModel } from './reference-model.js';

/** The clock moves by `ms`: forwards, or (negative) backwards, as wall clocks may. */
export class ClockCommand extends ModelCommand {
  constructor(readonly ms: number) {
    super();
  }

  protected step(model: ReferenceModel, { system }: ModelReal): Promise<void> {
    model.now += this.ms;
    system.clock.set(model.now);
    return Promise.resolve();
  }

  toString(): string {
    return `clock(${this.ms >= 0 ? '+' : ''}${this.ms})`;
  }
}

/**
 * The clock moves to the next time a lock expires or a retry comes due (as the model knows them), or
 * `offset` ms from it (-1: just before): where an off-by-one would show. Nothing due: it stays.
 */
export class ClockToNextDueCommand extends ModelCommand {
  constructor(readonly offset: number) {
    super();
  }

  protected step(model: ReferenceModel, { system }: ModelReal): Promise<void> {
    const due = model
      .stored()
      .flatMap((task) => (task.state === 'pending' ? [task.lockExpirationTime, task.retryAt] : []))
      .filter((at): at is number => at !== undefined && at + this.offset > model.now);
    if (due.length > 0) {
      model.now = Math.min(...due) + this.offset;
      system.clock.set(model.now);
    }
    return Promise.resolve();
  }

  toString(): string {
    return `clockToNextDue(${this.offset})`;
  }
}

/** A durable store closes (facade, feed and consumer with it) and opens again on the same data. */
export class ReopenCommand extends ModelCommand {
  protected async step(_model: ReferenceModel, { system }: ModelReal): Promise<void> {
    await system.reopen();
  }

  toString(): string {
    return 'reopen()';
  }
}

/** The engine's outcome consumer stops and starts again from the position it stored. */
export class RestartConsumerCommand extends ModelCommand {
  protected async step(_model: ReferenceModel, { system }: ModelReal): Promise<void> {
    await system.restartConsumer();
  }

  toString(): string {
    return 'restartConsumer()';
  }
}

/**
 * The engine fails on the next outcome it is handed: its consumer stops, and starts again from the
 * position it stored — before that outcome, which it must then get once more, and every other once.
 */
export class FailNextOutcomeCommand extends ModelCommand {
  protected step(_model: ReferenceModel, { system }: ModelReal): Promise<void> {
    system.failNextOutcome = true;
    return Promise.resolve();
  }

  toString(): string {
    return 'engineFailsOnNextOutcome()';
  }
}

/**
 * A new subscriber resumes the feed after the position of one change delivered so far (`place` of
 * them, counted from the start; 0: after position 0) and must get every later change exactly once, in
 * order: the same the first subscriber got.
 */
export class ResumeFeedCommand extends ModelCommand {
  constructor(readonly place: number) {
    super();
  }

  protected async step(_model: ReferenceModel, { system }: ModelReal): Promise<void> {
    const all = system.changes;
    const skipped = this.place % (all.length + 1);
    const after = skipped === 0 ? 0 : all[skipped - 1]!.position;
    const wanted = all.slice(skipped);
    const received: ExternalTaskChange[] = [];
    const feed = await system.repository.subscribe({
      after,
      onChange: (change) => void received.push(change),
    });
    try {
      await waitUntil(
        () => received.length >= wanted.length,
        () => `a feed resumed after ${after} to deliver ${wanted.length} changes (got ${received.length})`,
      );
    } finally {
      await feed.close();
    }
    expect(received, `the changes after position ${after}`).to.deep.equal(wanted);
  }

  toString(): string {
    return `resumeFeed(${this.place})`;
  }
}
