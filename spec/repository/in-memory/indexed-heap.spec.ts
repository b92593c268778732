import { expect } from 'chai';
import fc from 'fast-check';
import { IndexedHeap, parentOf } from '../../../lib/repository/in-memory/indexed-heap.js';

interface Item {
  readonly id: number;
  readonly key: number;
  heapIndex: number;
}

type Step =
  | { readonly kind: 'push'; readonly key: number }
  | { readonly kind: 'pop' }
  | { readonly kind: 'remove'; readonly pick: number };

const byKey = (a: Item, b: Item): number => a.key - b.key;
/** A heap by key, ties by id. */
const newHeap = (): IndexedHeap<Item> =>
  new IndexedHeap<Item>(
    (item) => item.key,
    (item) => item.id,
  );

/** Keys from a small range, so that many items tie. */
const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant('push' as const), key: fc.integer({ min: 0, max: 9 }) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('pop' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }) },
);

/** The model: the items in the heap, kept in an array sorted by key (stable among equal keys). */
function insertSorted(model: Item[], item: Item): void {
  let index = model.length;
  while (index > 0 && model[index - 1]!.key > item.key) index--;
  model.splice(index, 0, item);
}

function expectConsistent(heap: IndexedHeap<Item>, model: readonly Item[], removed: readonly Item[]): void {
  expect(heap.size).to.equal(model.length);
  const top = heap.peek();
  if (model.length === 0) expect(top).to.be.undefined;
  else expect(top?.key).to.equal(model[0]!.key);
  expect(
    removed.filter((item) => item.heapIndex !== -1),
    'removed items with a heapIndex',
  ).to.deep.equal([]);
  // White box: every item sits where its heapIndex says, and every parent orders before its children.
  const slots = [...heap.items()];
  expect(slots).to.have.length(model.length);
  const misplaced = model.filter((item) => slots[item.heapIndex] !== item);
  expect(misplaced, 'items whose heapIndex does not point at them').to.deep.equal([]);
  const disordered = slots.filter((item, index) => index > 0 && byKey(slots[parentOf(index)]!, item) > 0);
  expect(disordered, 'items that order before their parent').to.deep.equal([]);
}

describe('IndexedHeap', () => {
  it('is empty at first', () => {
    const heap = newHeap();

    expect(heap.size).to.equal(0);
    expect(heap.peek()).to.be.undefined;
    expect(heap.pop()).to.be.undefined;
  });

  it('pops items in ascending order of the comparator', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 100, size: 'max' }),
        (keys) => {
          const heap = newHeap();
          keys.forEach((key, id) => heap.push({ id, key, heapIndex: -1 }));
          const popped: number[] = [];
          for (let item = heap.pop(); item !== undefined; item = heap.pop()) popped.push(item.key);

          expect(popped).to.deep.equal([...keys].sort((a, b) => a - b));
          expect(heap.size).to.equal(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('removes any item, wherever it sits, and keeps the rest in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 60, size: 'max' }),
        fc.array(fc.nat(), { maxLength: 30, size: 'max' }),
        (keys, picks) => {
          const heap = newHeap();
          const items = keys.map((key, id) => ({ id, key, heapIndex: -1 }));
          for (const item of items) heap.push(item);
          const remaining = [...items];
          for (const pick of picks) {
            if (remaining.length === 0) break;
            const [item] = remaining.splice(pick % remaining.length, 1);
            heap.remove(item!);
            expect(item!.heapIndex).to.equal(-1);
          }
          const popped: Item[] = [];
          for (let item = heap.pop(); item !== undefined; item = heap.pop()) popped.push(item);

          expect(popped.map((item) => item.key)).to.deep.equal(
            remaining.map((item) => item.key).sort((a, b) => a - b),
          );
          expect(popped).to.have.members(remaining);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('matches a sorted-array model under random push, pop and remove, with consistent heapIndex', () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary, { maxLength: 120, size: 'max' }), (steps) => {
        const heap = newHeap();
        const model: Item[] = [];
        const removed: Item[] = [];
        let nextId = 0;
        for (const step of steps) {
          if (step.kind === 'push') {
            const item = { id: nextId++, key: step.key, heapIndex: -1 };
            heap.push(item);
            insertSorted(model, item);
          } else if (step.kind === 'pop') {
            const popped = heap.pop();
            if (model.length === 0) {
              expect(popped).to.be.undefined;
            } else {
              expect(popped).to.not.be.undefined;
              expect(popped!.key).to.equal(model[0]!.key);
              const index = model.indexOf(popped!);
              expect(index, 'popped an item that is not in the heap').to.be.at.least(0);
              model.splice(index, 1);
              removed.push(popped!);
            }
          } else if (model.length > 0) {
            const [item] = model.splice(step.pick % model.length, 1);
            heap.remove(item!);
            removed.push(item!);
          }
          expectConsistent(heap, model, removed);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('accepts an item again after it was removed', () => {
    const heap = newHeap();
    const a = { id: 1, key: 5, heapIndex: -1 };
    const b = { id: 2, key: 3, heapIndex: -1 };
    heap.push(a);
    heap.push(b);
    heap.remove(b);
    heap.push(b);

    expect(heap.size).to.equal(2);
    expect(heap.pop()).to.equal(b);
    expect(heap.pop()).to.equal(a);
    expect(heap.size).to.equal(0);
  });
});
