/**
 * Where the in-memory store's bytes go, for the benchmark: steps that each release one part of a filled
 * store (reaching into its private fields, which only a benchmark may do), so that the heap that each
 * step frees is that part's size. Run in this order; the store is unusable afterwards.
 */
import type { InMemoryExternalTaskRepository } from '../lib/index.js';

/** A part's name, the step that releases it, and bytes to add to what the heap shows it freed. */
export type StorePart = readonly [name: string, release: () => void, correction: number];

interface Internals {
  readonly log: { retained: unknown; fresh: unknown[] };
  readonly table: {
    readonly indexes: { readonly built: { readonly index: Map<unknown, unknown> }[] };
    readonly tasks: Map<string, unknown>;
    readonly keys: Map<string, unknown>;
    readonly topics: Map<
      string,
      Record<'ready' | 'locked' | 'delayed', { entries: unknown[]; keys: unknown; ties: unknown }>
    >;
  };
}

/** The parts of `repository` (filled with `count` tasks), in the order they can be released. */
export function storeParts(repository: InMemoryExternalTaskRepository, count: number): StorePart[] {
  const { log, table } = repository as unknown as Internals;
  const held = { records: [] as unknown[] };
  // Holding the records in an array while the map is released costs 8 bytes a task: moved to records.
  const arrayBytes = 8 * count;
  return [
    [
      'change log (its last 10,000 changes)',
      () => {
        log.retained = undefined;
        log.fresh = [];
      },
      0,
    ],
    ['secondary indexes', () => table.indexes.built.forEach(({ index }) => index.clear()), 0],
    [
      'topic heaps',
      () => {
        for (const queues of table.topics.values())
          for (const heap of [queues.ready, queues.locked, queues.delayed]) {
            heap.entries = [];
            heap.keys = heap.ties = undefined;
          }
      },
      0,
    ],
    [
      'map by id',
      () => {
        held.records = [...table.tasks.values()];
        table.tasks.clear();
        table.keys.clear();
      },
      arrayBytes,
    ],
    ['records (the task object, its id, its numbers)', () => (held.records = []), -arrayBytes],
  ];
}
