/** An item that knows its position in the one heap that holds it (-1 when in none). */
export interface HeapItem {
  heapIndex: number;
}

/**
 * A binary min-heap (by `compare`) whose items record their own position, so that removing or
 * re-ordering any item costs O(log n) instead of a search.
 */
export class IndexedHeap<T extends HeapItem> {
  private readonly entries: T[] = [];

  constructor(private readonly compare: (a: T, b: T) => number) {}

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
    let firstNotDue: T | undefined;
    const stack = this.entries.length > 0 ? [0] : [];
    for (let index = stack.pop(); index !== undefined; index = stack.pop()) {
      const item = this.entries[index] as T;
      if (!isDue(item)) {
        if (!firstNotDue || this.compare(item, firstNotDue) < 0) firstNotDue = item;
        continue;
      }
      visit?.(item);
      if (2 * index + 1 < this.entries.length) stack.push(2 * index + 1);
      if (2 * index + 2 < this.entries.length) stack.push(2 * index + 2);
    }
    return firstNotDue;
  }

  /**
   * The smallest item for which `matches` holds, without changing the heap. Costs O(1 + the number of
   * items before it that do not match), since a subtree is left as soon as its root matches.
   */
  minMatching(matches: (item: T) => boolean): T | undefined {
    let best: T | undefined;
    const stack = this.entries.length > 0 ? [0] : [];
    for (let index = stack.pop(); index !== undefined; index = stack.pop()) {
      const item = this.entries[index] as T;
      if (best && this.compare(item, best) >= 0) continue;
      if (matches(item)) {
        best = item;
        continue;
      }
      if (2 * index + 1 < this.entries.length) stack.push(2 * index + 1);
      if (2 * index + 2 < this.entries.length) stack.push(2 * index + 2);
    }
    return best;
  }

  push(item: T): void {
    item.heapIndex = this.entries.length;
    this.entries.push(item);
    this.siftUp(item.heapIndex);
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
    this.entries[index] = last;
    last.heapIndex = index;
    this.siftDown(index);
    this.siftUp(last.heapIndex);
  }

  private siftUp(index: number): void {
    const item = this.entries[index] as T;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = this.entries[parentIndex] as T;
      if (this.compare(item, parent) >= 0) break;
      this.place(parent, index);
      index = parentIndex;
    }
    this.place(item, index);
  }

  private siftDown(index: number): void {
    const item = this.entries[index] as T;
    const count = this.entries.length;
    for (;;) {
      let childIndex = 2 * index + 1;
      if (childIndex >= count) break;
      const right = childIndex + 1;
      if (right < count && this.compare(this.entries[right] as T, this.entries[childIndex] as T) < 0)
        childIndex = right;
      const child = this.entries[childIndex] as T;
      if (this.compare(child, item) >= 0) break;
      this.place(child, index);
      index = childIndex;
    }
    this.place(item, index);
  }

  private place(item: T, index: number): void {
    this.entries[index] = item;
    item.heapIndex = index;
  }
}
