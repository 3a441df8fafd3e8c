/**
 * Kernel benchmarks: messages delivered per wall second (ping-pong among 10 nodes, random latency,
 * trace on), the same rate relative to a bare binary-heap event loop in this process, and the
 * memory each pending event costs.
 */
import { Kernel, type Process } from "@sessionsim/kernel";
import type { Figure } from "./figure.js";

const NODES = 10;

function kernelRate(messages: number): number {
  const kernel = new Kernel({ seed: 7 });
  const names = Array.from({ length: NODES }, (_, i) => `n${i}`);
  let delivered = 0;
  for (const name of names) {
    kernel.addNode(name, (ctx) => {
      const rng = ctx.random("pingpong");
      const p: Process = {
        onRequest: () => undefined,
        onMessage: () => {
          delivered++;
          ctx.send(names[rng.int(0, NODES - 1)], delivered, "ping");
        },
      };
      return p;
    });
  }
  // 100 balls in flight among the 10 nodes.
  kernel.addNode("starter", (ctx) => {
    for (let i = 0; i < 100; i++) ctx.send(names[i % NODES], i, "ping");
    return { onRequest: () => undefined };
  });
  const start = performance.now();
  kernel.runUntil(() => delivered >= messages);
  const secs = (performance.now() - start) / 1000;
  if (kernel.trace.length < messages) throw new Error("trace was off");
  return delivered / secs;
}

/**
 * The same ping-pong on a bare binary-heap event loop: events carry a handler that schedules the
 * next event, and that is all (no network model, no trace, no nodes).
 */
function bareHeapRate(messages: number): number {
  type Ev = { t: number; s: number; to: number; fire: (e: Ev) => void };
  const heap: Ev[] = [];
  const less = (a: Ev, b: Ev) => a.t < b.t || (a.t === b.t && a.s < b.s);
  const push = (e: Ev) => {
    let i = heap.length;
    heap.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(e, heap[p])) break;
      heap[i] = heap[p];
      i = p;
    }
    heap[i] = e;
  };
  const pop = (): Ev => {
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      const n = heap.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && less(heap[r], heap[l]) ? r : l;
        if (!less(heap[c], last)) break;
        heap[i] = heap[c];
        i = c;
      }
      heap[i] = last;
    }
    return top;
  };
  let seq = 0;
  let delivered = 0;
  const onMessage = (e: Ev): void => {
    delivered++;
    push({ t: e.t + 0.2 + Math.random() * 1.8, s: seq++, to: Math.floor(Math.random() * NODES), fire: onMessage });
  };
  for (let i = 0; i < 100; i++) push({ t: Math.random() * 2, s: seq++, to: i % NODES, fire: onMessage });
  const start = performance.now();
  while (delivered < messages) {
    const e = pop();
    e.fire(e);
  }
  return messages / ((performance.now() - start) / 1000);
}

function bytesPerPendingEvent(): number {
  const kernel = new Kernel({ seed: 1 });
  const n = 1_000_000;
  globalThis.gc?.();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) kernel.schedule(i, () => undefined);
  globalThis.gc?.();
  const after = process.memoryUsage().heapUsed;
  if (kernel.pendingEvents !== n) throw new Error("events lost");
  return (after - before) / n;
}

export function kernelBench(): Figure[] {
  const messages = 2_000_000;
  kernelRate(200_000); // warm up
  bareHeapRate(200_000);
  // Best of five, interleaved, so a burst of load on the machine hits both loops alike (a shared
  // VM swings single runs by a fifth either way).
  let rate = 0;
  let bare = 0;
  for (let i = 0; i < 5; i++) {
    rate = Math.max(rate, kernelRate(messages));
    bare = Math.max(bare, bareHeapRate(messages));
  }
  return [
    { name: "kernel.messagesPerSec", value: Math.round(rate), unit: "msg/s" },
    { name: "kernel.ratioToBareHeap", value: Number((rate / bare).toFixed(3)), unit: "ratio" },
    { name: "kernel.bytesPerPendingEvent", value: Math.round(bytesPerPendingEvent()), unit: "bytes" },
  ];
}
