/**
 * A binary min-heap of events ordered by (time, seq). The sequence number is assigned at
 * scheduling, so two events at the same virtual time fire in the order they were scheduled:
 * ties never depend on anything but the run itself.
 */
export interface QueuedEvent {
  readonly time: number;
  readonly seq: number;
  /** Set by the queue: true from `push` until the event is popped. */
  queued: boolean;
  /** Set by `cancel`; a cancelled event is dropped when it reaches the top. */
  cancelled: boolean;
  fire(): void;
}

function before(a: QueuedEvent, b: QueuedEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

/** Cancelled events may take up at most half the heap (above this many) before it is rebuilt. */
const COMPACT_ABOVE = 1024;

export class EventQueue {
  private heap: QueuedEvent[] = [];
  /** Cancelled events still in the heap. */
  private cancelledCount = 0;
  /** How many times the heap was rebuilt without its cancelled events (for tests). */
  compactions = 0;

  /** Events that will fire (cancelled ones not counted). */
  get size(): number {
    return this.heap.length - this.cancelledCount;
  }

  /** The next event that will fire. */
  peek(): QueuedEvent | undefined {
    for (;;) {
      const top = this.heap[0];
      if (top === undefined || !top.cancelled) return top;
      this.popTop();
    }
  }

  push(event: QueuedEvent): void {
    const heap = this.heap;
    event.queued = true;
    let i = heap.length;
    heap.push(event);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent];
      if (!before(event, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = event;
  }

  /** Removes and returns the next event that will fire. */
  pop(): QueuedEvent | undefined {
    for (;;) {
      const top = this.popTop();
      if (top === undefined || !top.cancelled) return top;
    }
  }

  /**
   * Cancels a queued event. It stays in the heap until it reaches the top, unless cancelled events
   * come to fill half of it: then the heap is rebuilt without them. (Every request sets a 30 s
   * timeout that its reply cancels: a busy run would otherwise carry thousands of dead timers.)
   * Rebuilding keeps the (time, seq) order, so it changes nothing that fires.
   */
  cancel(event: QueuedEvent): void {
    if (event.cancelled || !event.queued) return;
    event.cancelled = true;
    if (++this.cancelledCount > COMPACT_ABOVE && 2 * this.cancelledCount > this.heap.length) this.compact();
  }

  private popTop(): QueuedEvent | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (top === undefined) return undefined;
    top.queued = false;
    if (top.cancelled) this.cancelledCount--;
    const last = heap.pop()!;
    if (heap.length > 0) this.siftDown(last, 0);
    return top;
  }

  private siftDown(event: QueuedEvent, i: number): void {
    const heap = this.heap;
    const n = heap.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(heap[r], heap[l]) ? r : l;
      if (!before(heap[c], event)) break;
      heap[i] = heap[c];
      i = c;
    }
    heap[i] = event;
  }

  private compact(): void {
    const live: QueuedEvent[] = [];
    for (const e of this.heap) {
      if (e.cancelled) e.queued = false;
      else live.push(e);
    }
    this.heap = live;
    this.cancelledCount = 0;
    this.compactions++;
    for (let i = (live.length >> 1) - 1; i >= 0; i--) this.siftDown(live[i], i);
  }
}
