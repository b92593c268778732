/** An item that knows its position in the one heap that holds it (-1 when in none). */
export interface HeapItem {
  heapIndex: number;
}

/** How many children a node of an {@link IndexedHeap} has. */
export const heapArity = 8;

/** The position of the parent of the node at `index` (which must not be the root). */
export function parentOf(index: number): number {
  return (index - 1) >> 3;
}

/**
 * A min-heap whose items record their own position, so that removing or re-ordering any item costs
 * O(log n) instead of a search. Items are ordered by a key and, among equal keys, by a tie-breaker, both
 * numbers read once when an item is pushed (an item's keys must not change while the heap holds it).
 *
 * Built for large heaps (a million tasks), whose cost is memory reads, not comparisons: the keys sit in
 * typed arrays beside the items, so that a comparison reads no item (a node's children's keys share a
 * cache line), and each node has {@link heapArity} children, which makes the heap a third as deep as a
 * binary one, and so a third of the items a sift moves (and writes the new position of).
 */
export class IndexedHeap<T extends HeapItem> {
  private readonly entries: T[] = [];
  private keys = new Float64Array(16);
  private ties = new Float64Array(16);

  /**
   * @param keyOf - the key that orders an item (smallest first)
   * @param tieOf - what orders items of equal keys (smallest first)
   */
  constructor(
    private readonly keyOf: (item: T) => number,
    private readonly tieOf: (item: T) => number,
  ) {}

  get size(): number {
    return this.entries.length;
  }

  /** The items, in no particular order (a view: do not change the heap while iterating). */
  items(): Iterable<T> {
    return this.entries;
  }

  peek(): T | undefined {
    return this.entries[0];
  }

  /**
   * Visits, without changing the heap, every item for which `isDue` holds, given that it holds for an
   * item only if it holds for the item's parent (a prefix of the heap order, such as "key <= now"), and
   * answers the smallest item for which it does not hold. Costs O(due + 1).
   */
  scanDue(isDue: (item: T) => boolean, visit?: (item: T) => void): T | undefined {
    let firstNotDue = -1;
    const stack = this.entries.length > 0 ? [0] : [];
    for (let index = stack.pop(); index !== undefined; index = stack.pop()) {
      const item = this.entries[index] as T;
      if (!isDue(item)) {
        if (firstNotDue < 0 || this.before(index, firstNotDue)) firstNotDue = index;
        continue;
      }
      visit?.(item);
      this.pushChildren(stack, index);
    }
    return firstNotDue < 0 ? undefined : this.entries[firstNotDue];
  }

  /**
   * The smallest item for which `matches` holds, without changing the heap. Costs O(1 + the number of
   * items before it that do not match), since a subtree is left as soon as its root matches.
   */
  minMatching(matches: (item: T) => boolean): T | undefined {
    let best = -1;
    const stack = this.entries.length > 0 ? [0] : [];
    for (let index = stack.pop(); index !== undefined; index = stack.pop()) {
      if (best >= 0 && !this.before(index, best)) continue;
      if (matches(this.entries[index] as T)) {
        best = index;
        continue;
      }
      this.pushChildren(stack, index);
    }
    return best < 0 ? undefined : this.entries[best];
  }

  push(item: T): void {
    const index = this.entries.length;
    if (index === this.keys.length) this.grow();
    this.entries.push(item);
    this.siftUp(item, this.keyOf(item), this.tieOf(item), index);
  }

  pop(): T | undefined {
    const top = this.entries[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  /** Removes `item`, which must be in this heap. */
  remove(item: T): void {
    const index = item.heapIndex;
    const last = this.entries.pop() as T;
    item.heapIndex = -1;
    if (last === item) return;
    const end = this.entries.length;
    const key = this.keys[end] as number;
    const tie = this.ties[end] as number;
    // The last item fills the hole: it moves down if it orders after the hole's children, else up.
    if (index > 0 && this.ordersBefore(key, tie, parentOf(index))) this.siftUp(last, key, tie, index);
    else this.siftDown(last, key, tie, index);
  }

  /** Whether the item at `a` orders before the item at `b`. */
  private before(a: number, b: number): boolean {
    return this.ordersBefore(this.keys[a] as number, this.ties[a] as number, b);
  }

  /** Whether keys `key` and `tie` order before the item at `index`. */
  private ordersBefore(key: number, tie: number, index: number): boolean {
    const other = this.keys[index] as number;
    return key < other || (key === other && tie < (this.ties[index] as number));
  }

  /** Whether keys `key` and `tie` order after the item at `index`. */
  private orderedAfter(key: number, tie: number, index: number): boolean {
    const other = this.keys[index] as number;
    return other < key || (other === key && (this.ties[index] as number) < tie);
  }

  private pushChildren(stack: number[], index: number): void {
    const first = heapArity * index + 1;
    const end = Math.min(first + heapArity, this.entries.length);
    for (let child = first; child < end; child++) stack.push(child);
  }

  /** Moves `item` (keys `key`, `tie`) up from the hole at `index` to where it belongs, and puts it there. */
  private siftUp(item: T, key: number, tie: number, index: number): void {
    while (index > 0) {
      const parent = parentOf(index);
      if (!this.ordersBefore(key, tie, parent)) break;
      this.move(parent, index);
      index = parent;
    }
    this.place(item, key, tie, index);
  }

  /** Moves `item` (keys `key`, `tie`) down from the hole at `index` to where it belongs, and puts it there. */
  private siftDown(item: T, key: number, tie: number, index: number): void {
    const count = this.entries.length;
    for (;;) {
      const first = heapArity * index + 1;
      if (first >= count) break;
      let smallest = first;
      const end = Math.min(first + heapArity, count);
      for (let child = first + 1; child < end; child++) if (this.before(child, smallest)) smallest = child;
      if (!this.orderedAfter(key, tie, smallest)) break;
      this.move(smallest, index);
      index = smallest;
    }
    this.place(item, key, tie, index);
  }

  /** Moves the item at `from`, with its keys, into the hole at `to`. */
  private move(from: number, to: number): void {
    const item = this.entries[from] as T;
    this.entries[to] = item;
    item.heapIndex = to;
    this.keys[to] = this.keys[from] as number;
    this.ties[to] = this.ties[from] as number;
  }

  private place(item: T, key: number, tie: number, index: number): void {
    this.entries[index] = item;
    item.heapIndex = index;
    this.keys[index] = key;
    this.ties[index] = tie;
  }

  /** Doubles the room for keys. */
  private grow(): void {
    const keys = new Float64Array(this.keys.length * 2);
    keys.set(this.keys);
    this.keys = keys;
    const ties = new Float64Array(this.ties.length * 2);
    ties.set(this.ties);
    this.ties = ties;
  }
}
