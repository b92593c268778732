import { expect } from 'chai';
import sinon from 'sinon';
import type { Driver, NotificationHandlers } from '../../lib/postgres/driver/driver.js';
import { NotificationListener } from '../../lib/postgres/notification-listener.js';

/** A driver whose LISTEN connections each drop `livesMs` after they began listening. */
function flappingDriver(livesMs: number): Driver {
  return {
    query: () => Promise.resolve([]),
    queryPlannedForValues: () => Promise.resolve([]),
    transaction: () => Promise.reject(new Error('not used')),
    close: () => Promise.resolve(),
    listen: (_channel: string, handlers: NotificationHandlers) => {
      setTimeout(() => handlers.onLost(new Error('dropped')), livesMs);
      return Promise.resolve({ close: () => Promise.resolve() });
    },
  };
}

describe('NotificationListener: reconnecting', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers();
  });
  afterEach(() => clock.restore());

  /** The delays it announced before reconnecting, on a driver whose connections live `livesMs`. */
  async function delaysOf(livesMs: number, attempts: number): Promise<number[]> {
    const delays: number[] = [];
    const logger = {
      error: () => undefined,
      warn: (_message: string, details?: Record<string, unknown>) => {
        if (typeof details?.retryInMs === 'number') delays.push(details.retryInMs);
      },
    };
    const receivers = {
      onHints: () => undefined,
      onRecorded: () => undefined,
      onReconnected: () => undefined,
    };
    const listener = new NotificationListener(flappingDriver(livesMs), 'flapping', receivers, logger);
    await listener.start();
    while (delays.length < attempts) await clock.tickAsync(50);
    await listener.close();
    return delays;
  }

  it('backs off ever longer from a connection that drops as soon as it listens', async () => {
    expect(await delaysOf(10, 6)).to.deep.equal([100, 200, 400, 800, 1600, 3200]);
  });

  it('starts the back-off again after a connection that lasted', async () => {
    expect(await delaysOf(6000, 3)).to.deep.equal([100, 100, 100]);
  });
});
