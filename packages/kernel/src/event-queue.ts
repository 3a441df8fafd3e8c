/**
 * A binary min-heap of events ordered by (time, seq). The sequence number is assigned at
 * scheduling, so two events at the same virtual time fire in the order they were scheduled:
 * ties never depend on anything but the run itself.
 */
export interface QueuedEvent {
  readonly time: number;
  readonly seq: number;
  /** The event's position in the heap, -1 once popped or removed (kept by the queue). */
  heapIndex: number;
  fire(): void;
}

function before(a: QueuedEvent, b: QueuedEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

export class EventQueue {
  private readonly heap: QueuedEvent[] = [];

  get size(): number {
    return this.heap.length;
  }

  peek(): QueuedEvent | undefined {
    return this.heap[0];
  }

  push(event: QueuedEvent): void {
    this.heap.push(event);
    this.siftUp(event, this.heap.length - 1);
  }

  pop(): QueuedEvent | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (top === undefined) return undefined;
    top.heapIndex = -1;
    const last = heap.pop()!;
    if (heap.length > 0) this.siftDown(last, 0);
    return top;
  }

  /**
   * Takes a queued event out (a cancelled timer): every request sets a 30 s timeout that its reply
   * cancels, and leaving those in the heap until they expired kept thousands of dead timers, and
   * the replies their closures hold, alive in a busy run. Nothing else moves: the order of the
   * other events is their (time, seq) order either way.
   */
  remove(event: QueuedEvent): void {
    const i = event.heapIndex;
    if (i < 0) return;
    event.heapIndex = -1;
    const heap = this.heap;
    const last = heap.pop()!;
    if (i === heap.length) return;
    if (i > 0 && before(last, heap[(i - 1) >> 1])) this.siftUp(last, i);
    else this.siftDown(last, i);
  }

  /** Places `event` at hole `i` or above it. */
  private siftUp(event: QueuedEvent, i: number): void {
    const heap = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent];
      if (!before(event, p)) break;
      heap[i] = p;
      p.heapIndex = i;
      i = parent;
    }
    heap[i] = event;
    event.heapIndex = i;
  }

  /** Places `event` at hole `i` or below it. */
  private siftDown(event: QueuedEvent, i: number): void {
    const heap = this.heap;
    const n = heap.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(heap[r], heap[l]) ? r : l;
      const child = heap[c];
      if (!before(child, event)) break;
      heap[i] = child;
      child.heapIndex = i;
      i = c;
    }
    heap[i] = event;
    event.heapIndex = i;
  }
}
