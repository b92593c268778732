/**
 * The bare floor of the in-memory benchmark: the least work a task's lifecycle needs in one process — a
 * Map of tasks by id and one binary heap per topic (higher priority first, then creation order); create,
 * claim a batch, finish. No API, no checks, no events, no indexes, no copies.
 */
import { randomUUID } from 'node:crypto';

interface FloorTask {
  readonly id: string;
  readonly topic: string;
  readonly priority: number;
  readonly sequence: number;
  readonly createdAt: number;
  state: 'pending' | 'finished';
  workerId: string | undefined;
  lockExpirationTime: number | undefined;
  result: unknown;
}

function before(a: FloorTask, b: FloorTask): boolean {
  return a.priority > b.priority || (a.priority === b.priority && a.sequence < b.sequence);
}

/** A plain binary min-heap of tasks in hand-out order. */
class FloorHeap {
  private readonly items: FloorTask[] = [];

  push(task: FloorTask): void {
    const items = this.items;
    let index = items.length;
    items.push(task);
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!before(task, items[parent]!)) break;
      items[index] = items[parent]!;
      index = parent;
    }
    items[index] = task;
  }

  pop(): FloorTask | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let index = 0;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= items.length) break;
      if (child + 1 < items.length && before(items[child + 1]!, items[child]!)) child++;
      if (!before(items[child]!, last)) break;
      items[index] = items[child]!;
      index = child;
    }
    items[index] = last;
    return top;
  }
}

/** The floor store: tasks by id, one heap of available tasks per topic. */
export class FloorStore {
  private readonly tasks = new Map<string, FloorTask>();
  private readonly heaps = new Map<string, FloorHeap>();
  private sequence = 0;

  create(topic: string, priority: number, now: number): string {
    const task: FloorTask = {
      id: randomUUID(),
      topic,
      priority,
      sequence: this.sequence++,
      createdAt: now,
      state: 'pending',
      workerId: undefined,
      lockExpirationTime: undefined,
      result: undefined,
    };
    this.tasks.set(task.id, task);
    let heap = this.heaps.get(topic);
    if (!heap) this.heaps.set(topic, (heap = new FloorHeap()));
    heap.push(task);
    return task.id;
  }

  claim(topic: string, workerId: string, maxTasks: number, lockUntil: number): string[] {
    const heap = this.heaps.get(topic);
    const ids: string[] = [];
    for (let task = heap?.pop(); task; task = ids.length < maxTasks ? heap?.pop() : undefined) {
      task.workerId = workerId;
      task.lockExpirationTime = lockUntil;
      ids.push(task.id);
    }
    return ids;
  }

  finish(id: string, workerId: string, result: unknown): boolean {
    const task = this.tasks.get(id);
    if (!task || task.state !== 'pending' || task.workerId !== workerId) return false;
    task.state = 'finished';
    task.lockExpirationTime = undefined;
    task.result = result;
    return true;
  }
}
