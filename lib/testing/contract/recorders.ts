import { expect } from 'chai';
import type {
  AvailabilityHint,
  AvailabilityWatch,
  ChangeFeed,
  ChangeFeedResync,
  ChangePosition,
  ExternalTaskChange,
  ExternalTaskRepository,
} from '../../repository/external-task-repository.js';
import { waitUntil } from './waiting.js';

/** Options of {@link ChangeRecorder.subscribe}. */
export interface RecorderOptions {
  /** Resume after this position (see {@link ChangeSubscriber.after}). */
  readonly after?: ChangePosition;
  /** Runs on each change after it was recorded, before the recorder counts it as handled. */
  readonly onChange?: (change: ExternalTaskChange) => void | Promise<void>;
  readonly onResync?: (resync: ChangeFeedResync) => void | Promise<void>;
}

/** A subscriber of a store's change feed that keeps every change it receives, in order. */
export class ChangeRecorder {
  /** Every change received, in the order received. */
  readonly changes: ExternalTaskChange[] = [];
  /** Every resynchronisation the feed told about. */
  readonly resyncs: ChangeFeedResync[] = [];
  private handled: ChangePosition | undefined;
  private feed: ChangeFeed | undefined;

  private constructor(private readonly repository: ExternalTaskRepository) {}

  static async subscribe(
    repository: ExternalTaskRepository,
    options: RecorderOptions = {},
  ): Promise<ChangeRecorder> {
    const recorder = new ChangeRecorder(repository);
    recorder.handled = options.after;
    recorder.feed = await repository.subscribe({
      ...(options.after !== undefined && { after: options.after }),
      onChange: (change) => {
        recorder.changes.push(change);
        const handled = (): void => {
          recorder.handled = change.position;
        };
        // A subscriber that answers synchronously is handled synchronously: the store may deliver the next
        // change at once, as it would to any synchronous subscriber.
        let answer: void | Promise<void>;
        try {
          answer = options.onChange?.(change);
        } catch (error) {
          handled();
          throw error;
        }
        if (!answer) return handled();
        return answer.then(handled, (error: unknown) => {
          handled();
          throw error;
        });
      },
      onResync: (resync) => {
        recorder.resyncs.push(resync);
        return options.onResync?.(resync);
      },
    });
    // Without `after`, the feed starts where the store was when the subscription became live.
    recorder.handled ??= recorder.feed.position;
    return recorder;
  }

  /** The position of the last change handled (or the feed's start position, before the first). */
  get position(): ChangePosition {
    return this.handled ?? 0;
  }

  /** The open subscription. */
  get subscription(): ChangeFeed {
    return this.feed ?? expect.fail('the recorder has not subscribed');
  }

  /** Waits until every change the store has made so far has been handled. */
  async settled(): Promise<void> {
    const target = await this.repository.currentPosition();
    await waitUntil(
      () => this.position >= target,
      () => `the change feed to deliver up to position ${target} (delivered up to ${this.position})`,
    );
  }

  async close(): Promise<void> {
    await this.feed?.close();
  }
}

/** An availability watch that keeps every batch of hints it receives, in order. */
export class HintRecorder {
  readonly batches: (readonly AvailabilityHint[])[] = [];
  private watch: AvailabilityWatch | undefined;

  static async watch(repository: ExternalTaskRepository): Promise<HintRecorder> {
    const recorder = new HintRecorder();
    recorder.watch = await repository.watchAvailability((hints) => {
      recorder.batches.push(hints.map((hint) => ({ ...hint })));
    });
    return recorder;
  }

  /** Waits until `count` batches have come (hints are lossy in general, but not in a healthy test bed). */
  async received(count: number): Promise<(readonly AvailabilityHint[])[]> {
    await waitUntil(
      () => this.batches.length >= count,
      () => `${count} batches of availability hints (got ${this.batches.length})`,
    );
    return this.batches;
  }

  async close(): Promise<void> {
    await this.watch?.close();
  }
}
