import { ExternalTaskApi, tokenAccessPolicy, type AccessPolicy } from '../../lib/api/index.js';
import { isOutcome } from '../../lib/api/outcome-consumers.js';
import { ManualClock } from '../../lib/clock/index.js';
import type { ExternalTask, Identity } from '../../lib/model/index.js';
import type { ChangeFeed, ExternalTaskChange, ExternalTaskRepository } from '../../lib/repository/index.js';
import { quietLogger } from '../postgres/support.js';
import { waitUntil } from '../../lib/testing/contract/waiting.js';
import type { ModelWorker } from './reference-model.js';
import { MODEL_START } from './reference-model.js';
import type { OpenStore, StoreUnderTest } from './stores.js';

/** An outcome as the engine's consumer handled it. */
export interface ConsumedOutcome {
  readonly position: number;
  readonly taskId: string;
}

/** A `task:*` event of the facade, as a listener heard it. */
export interface HeardEvent {
  readonly type: string;
  readonly task: ExternalTask;
}

const EVENT_TYPES = [
  'created',
  'locked',
  'extended',
  'unlocked',
  'lockExpired',
  'retryScheduled',
  'retryDue',
  'retriesSet',
  'prioritySet',
  'finished',
  'failed',
  'cancelled',
] as const;

/** Workers see the tenants their identity lists; an identity without a list sees every task. */
const tenantPolicy: AccessPolicy = {
  authorize: (identity, request) => tokenAccessPolicy.authorize(identity, request),
  scope: (identity) => {
    const tenants = identity?.tenants as readonly string[] | undefined;
    return tenants ? { tenantIds: tenants } : undefined;
  },
};

/**
 * The real side of a model run: a store, the facade over it, and three subscribers that keep what they
 * were told — the change feed (resumed after its last position when the store reopens), the facade's
 * events, and an engine consuming outcomes that stores its position after each one and resumes from it.
 */
export class RealSystem {
  readonly clock = new ManualClock(MODEL_START);
  /** Every change the feed delivered, in the order delivered. */
  readonly changes: ExternalTaskChange[] = [];
  /** Every event the facades' listeners heard, in order. */
  readonly events: HeardEvent[] = [];
  /** Every outcome the consumer handled, in order, across restarts. */
  readonly outcomes: ConsumedOutcome[] = [];
  /** The position the consumer stored: that of the last outcome it handled. */
  storedOutcomePosition = 0;
  /** Makes the consumer fail on the next outcome it is handed (it then starts again from its position). */
  failNextOutcome = false;
  /** The consumer starting again after a failure. */
  private resuming: Promise<void> | undefined;
  api!: ExternalTaskApi;
  private store!: OpenStore;
  private feed: ChangeFeed | undefined;
  private consumer: ChangeFeed | undefined;
  private readonly halts: unknown[] = [];

  private constructor(private readonly kind: StoreUnderTest) {}

  static async open(kind: StoreUnderTest): Promise<RealSystem> {
    const system = new RealSystem(kind);
    system.store = await kind.open(system.clock);
    await system.attach(0);
    return system;
  }

  get repository(): ExternalTaskRepository {
    return this.store.repository;
  }

  get durable(): boolean {
    return this.store.reopen !== undefined;
  }

  identity(worker: ModelWorker): Identity {
    return { token: `token-${worker.workerId}`, ...(worker.tenants && { tenants: worker.tenants }) };
  }

  /** Closes the facade, the subscribers and the store, and opens them again where they were. */
  async reopen(): Promise<void> {
    await this.detach();
    this.store = await this.store.reopen!();
    await this.attach(this.changes.at(-1)?.position ?? 0);
  }

  /** Stops the engine's consumer and starts it again from the position it stored. */
  async restartConsumer(): Promise<void> {
    await this.consumer?.close();
    await this.consume();
  }

  /** Waits until every subscriber has everything the store has made so far. */
  async settled(): Promise<void> {
    const target = await this.repository.currentPosition();
    await waitUntil(
      () => (this.changes.at(-1)?.position ?? 0) >= target,
      () => `the change feed to reach position ${target}`,
    );
    const outcomes = this.changes.filter(isOutcome);
    await this.resuming;
    await waitUntil(
      () => this.events.length >= this.changes.length && this.outcomes.length >= outcomes.length,
      () =>
        `${this.changes.length} events (heard ${this.events.length}) and ${outcomes.length} outcomes ` +
        `(consumed ${this.outcomes.length})`,
    );
    if (this.halts.length > 0) throw new Error(`a feed halted: ${String(this.halts[0])}`);
  }

  async dispose(): Promise<void> {
    await this.detach();
    await this.store.dispose();
  }

  private async attach(after: number): Promise<void> {
    this.api = new ExternalTaskApi({
      repository: this.repository,
      accessPolicy: tenantPolicy,
      clock: this.clock,
      logger: quietLogger(),
    });
    for (const type of EVENT_TYPES) {
      this.api.events.on(`task:${type}`, ({ task }: { task: ExternalTask }) => {
        this.events.push({ type, task });
      });
    }
    this.feed = await this.repository.subscribe({
      after,
      onChange: (change) => void this.changes.push(change),
      onHalt: (error) => void this.halts.push(error),
    });
    await this.consume();
  }

  private async consume(): Promise<void> {
    this.consumer = await this.api.consumeOutcomes({
      after: this.storedOutcomePosition,
      onOutcome: ({ task, position }) => {
        if (this.failNextOutcome) {
          this.failNextOutcome = false;
          throw new EngineFailure(position);
        }
        this.outcomes.push({ position, taskId: task.id });
        this.storedOutcomePosition = position;
      },
      // A failure stops the consumption (no retry on the api's clock), and the engine resumes it itself.
      retry: { maxAttempts: 1 },
      onError: (error, outcome) => {
        if (!(error instanceof EngineFailure) || outcome?.position !== error.position) {
          this.halts.push(error);
          return;
        }
        // As an engine would: consume again from the position stored, which is before the failed outcome.
        this.resuming = this.consume();
      },
    });
  }

  private async detach(): Promise<void> {
    await this.api.close();
    await this.feed?.close();
    this.feed = undefined;
    this.consumer = undefined;
  }

  toString(): string {
    return `RealSystem(${this.kind.name})`;
  }
}

/** What the engine's consumer throws when a step made it fail on purpose. */
class EngineFailure extends Error {
  constructor(readonly position: number) {
    super(`the engine failed on the outcome at ${position}`);
  }
}
