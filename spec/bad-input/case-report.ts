/** Cases run and the slowest answer, per surface, printed once after the whole run. */
const surfaces = new Map<string, { cases: number; slowest: number }>();
let peakRss = 0;

/** Adds the cases of one parameter (their durations in ms) to `surface`'s count. */
export function recordCases(surface: string, durations: readonly number[]): void {
  const entry = surfaces.get(surface) ?? { cases: 0, slowest: 0 };
  entry.cases += durations.length;
  entry.slowest = Math.max(entry.slowest, ...durations);
  surfaces.set(surface, entry);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}

/** A generous bound on one answer: reported, never asserted (a loaded machine would make it flake). */
const generousBound = 2000;

after(() => {
  if (surfaces.size === 0) return;
  const lines = [...surfaces].map(
    ([surface, { cases, slowest }]) =>
      `  ${surface.padEnd(34)} ${String(cases).padStart(6)} cases, slowest ${slowest.toFixed(1)} ms` +
      (slowest > generousBound ? `  (over ${generousBound} ms)` : ''),
  );
  const total = [...surfaces.values()].reduce((sum, { cases }) => sum + cases, 0);
  console.log(
    `\nBad input, counted:\n${lines.join('\n')}\n  ${'total'.padEnd(34)} ${String(total).padStart(6)} cases; peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB`,
  );
});
