import type { Clock } from '../clock/index.js';
import { BadRequestError } from '../errors/index.js';
import type { Logger } from '../logging/index.js';
import type { ChangeFeed, ExternalTaskRepository } from '../repository/index.js';
import { CallbackRuns } from '../repository/callback-runs.js';
import {
  resolveConsumeOptions,
  type ConsumeOutcomesOptions,
  type OutcomesStart,
  type ResolvedHandling,
  type ResolvedNamedConsumer,
} from './consume-outcomes-options.js';
import { NamedOutcomeConsumption } from './named-outcome-consumer.js';
import { OutcomeDelivery, type DeliveryHooks } from './outcome-delivery.js';

export { isOutcome } from './outcome-delivery.js';

/**
 * The open consumptions of a facade's outcomes, kept until each is closed or stops, or the facade closes
 * them all: a change feed from a position the engine keeps, or a named consumer whose position the store
 * keeps (`consumer`). Each hands its outcomes over through an {@link OutcomeDelivery}.
 */
export class OutcomeConsumers {
  private readonly open = new Set<ChangeFeed>();
  /** The `onOutcome` (and `onResync`) callbacks running, so that a close from one can tell. */
  private readonly consuming = new CallbackRuns<OutcomeConsumers>();

  constructor(
    private readonly repository: ExternalTaskRepository,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** Opens a consumption (see {@link ExternalTaskApi.consumeOutcomes}); answers its handle. */
  async consume(options: ConsumeOutcomesOptions): Promise<ChangeFeed> {
    const resolved = resolveConsumeOptions(options);
    return 'named' in resolved
      ? this.consumeNamed(resolved.handling, resolved.named)
      : this.consumeAfter(resolved.handling, resolved.after);
  }

  /** Whether the caller runs inside a callback of one of these consumptions, while that callback runs. */
  get calledFromConsumer(): boolean {
    return this.consuming.owner() === this;
  }

  /** Closes every open consumption. */
  async closeAll(): Promise<void> {
    const open = [...this.open];
    this.open.clear();
    await Promise.all(open.map((consumption) => consumption.close()));
  }

  private async consumeAfter(handling: ResolvedHandling, after: OutcomesStart): Promise<ChangeFeed> {
    let feed: ChangeFeed | undefined = undefined;
    const forget = (): void => void (feed && this.open.delete(feed));
    const delivery = this.delivery(handling, { halted: forget });
    const opened = await delivery.open(this.repository, after, false);
    feed = {
      get position() {
        return opened.position;
      },
      close: () => {
        delivery.stop();
        forget();
        return opened.close();
      },
    };
    this.open.add(feed);
    return feed;
  }

  private async consumeNamed(
    handling: ResolvedHandling,
    named: ResolvedNamedConsumer,
  ): Promise<NamedOutcomeConsumption> {
    const leases = this.repository.consumerLeases;
    if (!leases) {
      throw new BadRequestError(
        'consumer',
        'consumer needs a store that keeps named consumers’ positions (its repository has no ' +
          'consumerLeases); pass after instead and keep the position in the engine.',
      );
    }
    const consumption = new NamedOutcomeConsumption(named, leases, {
      repository: this.repository,
      clock: this.clock,
      logger: this.logger,
      delivery: (hooks, within) => this.delivery(handling, hooks, within),
      closed: (closed) => void this.open.delete(closed),
    });
    await consumption.start();
    this.open.add(consumption);
    return consumption;
  }

  /** A delivery whose callbacks run as runs of these consumptions (and `within` the consumption's own). */
  private delivery(
    handling: ResolvedHandling,
    hooks: DeliveryHooks,
    within: <T>(callback: () => T) => T = (callback) => callback(),
  ): OutcomeDelivery {
    const run = <T>(callback: () => T): T => this.consuming.run(this, () => within(callback));
    return new OutcomeDelivery(handling, this.clock, this.logger, run, hooks);
  }
}
