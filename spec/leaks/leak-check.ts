import { expect } from 'chai';

/**
 * How big a leak run is. `npm test` runs the small one; `npm run test:leaks` (LEAK_SCALE=full) the one
 * the reliability figures give: 1,000 long polls, 100,000 tasks, 1,000 worker cycles, 100 reconnects.
 */
export const scale =
  process.env.LEAK_SCALE === 'full'
    ? { polls: 1000, tasks: 100_000, postgresTasks: 100_000, workerCycles: 1000, reconnects: 100 }
    : { polls: 1000, tasks: 5000, postgresTasks: 2000, workerCycles: 100, reconnects: 5 };

/** The process's active resources (handles and requests that keep it alive), counted by kind. */
export function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

/**
 * The active resources a check compares with, taken a turn of the event loop after the test began:
 * mocha arms its own timeout timer only after the test function's first synchronous part.
 */
export async function resourcesAtStart(): Promise<Map<string, number>> {
  await new Promise((resolve) => setImmediate(resolve));
  return activeResources();
}

/**
 * Waits (up to `ms`, polling) until no kind of active resource is more numerous than in `before` — a
 * closed socket or a cleared timer may take a turn or two to go — and fails listing what stayed.
 */
export async function expectNoResourceLeft(before: Map<string, number>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const extra = [...activeResources()].filter(([kind, count]) => count > (before.get(kind) ?? 0));
    if (extra.length === 0) return;
    if (Date.now() > deadline) {
      if (process.env.LEAK_DEBUG) {
        for (const handle of (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles()) {
          const h = handle as {
            constructor: { name: string };
            _onTimeout?: { toString(): string };
            remotePort?: number;
            _idleTimeout?: number;
          };
          console.log(
            h.constructor.name,
            h.remotePort,
            h._idleTimeout,
            h._onTimeout?.toString().slice(0, 300),
          );
        }
      }
      expect.fail(`resources left behind: ${extra.map(([kind, count]) => `${kind} × ${count}`).join(', ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Heap and RSS samples taken along a run, after a garbage collection where `--expose-gc` allows one. */
export class MemoryCurve {
  private readonly samples: { done: number; heap: number; rss: number }[] = [];

  sample(done: number): void {
    (globalThis as { gc?: () => void }).gc?.();
    const { heapUsed, rss } = process.memoryUsage();
    this.samples.push({ done, heap: heapUsed, rss });
  }

  /** The least-squares slopes of heap and RSS, in bytes per operation, over the last half of the run. */
  lastHalfSlopes(): { heap: number; rss: number } {
    const half = this.samples.slice(Math.floor(this.samples.length / 2));
    const slope = (pick: (sample: (typeof half)[number]) => number): number => {
      const meanX = half.reduce((sum, s) => sum + s.done, 0) / half.length;
      const meanY = half.reduce((sum, s) => sum + pick(s), 0) / half.length;
      const num = half.reduce((sum, s) => sum + (s.done - meanX) * (pick(s) - meanY), 0);
      const den = half.reduce((sum, s) => sum + (s.done - meanX) ** 2, 0);
      return den === 0 ? 0 : num / den;
    };
    return { heap: slope((s) => s.heap), rss: slope((s) => s.rss) };
  }

  /** One line for the run's report. */
  describe(what: string): string {
    const { heap, rss } = this.lastHalfSlopes();
    const gc = (globalThis as { gc?: unknown }).gc ? 'after gc' : 'without gc (pass --expose-gc)';
    return `${what}: heap ${heap.toFixed(2)} B/op, RSS ${rss.toFixed(2)} B/op over the last half (${this.samples.length} samples, ${gc})`;
  }
}
