// Unit tests of the discrete-event kernel: scheduler ties, network model, partitions, node
// lifecycle, per-node clocks, failpoints, futures and tasks, fault schedules, random streams, trace.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import {
  EventQueue,
  FailPointRegistry,
  Future,
  Kernel,
  NetworkError,
  RandomStreams,
  SIMULATION_EPOCH,
  scheduleFaults,
  spawn,
  wait,
  type FaultTarget,
  type KernelOptions,
  type KernelTraceEvent,
  type NodeContext,
  type QueuedEvent,
  type Task,
} from "../src/index.js";

type Ev<T extends KernelTraceEvent["type"]> = Extract<KernelTraceEvent, { type: T }>;

function eventsOf<T extends KernelTraceEvent["type"]>(k: Kernel, type: T): Ev<T>[] {
  return k.trace.all().filter((e): e is Ev<T> => e.type === type);
}

interface Received {
  readonly at: number;
  readonly to: string;
  readonly from: string;
  readonly body: unknown;
}

/**
 * A kernel with nodes that log every one-way message they receive and answer requests with
 * `{echo: body}` (or never, for bodies `{noReply: true}`, or after `{delayMs}` of their clock).
 */
function echoCluster(options: KernelOptions = {}, names: readonly string[] = ["a", "b", "c"]) {
  const k = new Kernel(options);
  const received: Received[] = [];
  for (const name of names)
    k.addNode(name, (ctx) => ({
      onRequest(from, body, reply) {
        const b = body as { noReply?: boolean; delayMs?: number };
        if (b?.noReply === true) return;
        if (b?.delayMs !== undefined) ctx.setTimer(b.delayMs, () => reply({ echo: body }));
        else reply({ echo: body });
      },
      onMessage(from, body) {
        received.push({ at: k.now(), to: ctx.name, from, body });
      },
    }));
  const send = (from: string, to: string, body: unknown): void => k.contextOf(from).send(to, body);
  const bodiesAt = (to: string): unknown[] => received.filter((r) => r.to === to).map((r) => r.body);
  return { k, received, send, bodiesAt };
}

/** Delivery latencies of one-way messages, read from the trace (deliver time − send time). */
function latencies(k: Kernel): number[] {
  return eventsOf(k, "net.deliver").map((e) => e.time - e.sentAt);
}

/** Sends `n` messages a → b, one every `gapMs` (so per-link FIFO never stretches a latency). */
function sendSpaced(k: Kernel, send: (f: string, t: string, b: unknown) => void, n: number, gapMs: number): void {
  for (let i = 0; i < n; i++) k.schedule(i * gapMs, () => send("a", "b", i));
  k.advance(n * gapMs + 10_000);
}

// ---- scheduler ------------------------------------------------------------------------------

void describe("scheduler", () => {
  void test("events at equal time fire in scheduling order, earlier times first", () => {
    const k = new Kernel();
    const fired: string[] = [];
    k.schedule(10, () => fired.push("t10-first"));
    k.schedule(10, () => {
      fired.push("t10-second");
      // Scheduled during t=10 for t=10: after everything already queued for t=10.
      k.schedule(0, () => fired.push("t10-nested"));
    });
    k.schedule(5, () => fired.push("t5"));
    k.schedule(10, () => fired.push("t10-third"));
    k.advance(20);
    assert.deepEqual(fired, ["t5", "t10-first", "t10-second", "t10-third", "t10-nested"]);
  });

  void test("many ties over few distinct times come out ordered by (time, scheduling order)", () => {
    const k = new Kernel();
    const rng = new RandomStreams("ties").get("times");
    const scheduled: { time: number; i: number }[] = [];
    const fired: number[] = [];
    for (let i = 0; i < 500; i++) {
      const time = rng.int(1, 4);
      scheduled.push({ time, i });
      k.schedule(time, () => fired.push(i));
    }
    k.advance(10);
    const expected = [...scheduled].sort((x, y) => x.time - y.time || x.i - y.i).map((s) => s.i);
    assert.deepEqual(fired, expected);
  });

  void test("advance runs events up to and including the end time and leaves the clock there", () => {
    const k = new Kernel();
    const t0 = k.now();
    assert.equal(t0, SIMULATION_EPOCH);
    const fired: number[] = [];
    k.schedule(100, () => fired.push(k.now() - t0));
    k.schedule(101, () => fired.push(k.now() - t0));
    k.advance(100);
    assert.deepEqual(fired, [100]);
    assert.equal(k.now(), t0 + 100);
    k.advance(50);
    assert.deepEqual(fired, [100, 101]);
    assert.equal(k.now(), t0 + 150);
  });

  void test("a cancelled event does not fire", () => {
    const k = new Kernel();
    let fired = false;
    k.schedule(5, () => (fired = true)).cancel();
    k.advance(10);
    assert.equal(fired, false);
  });

  void test("cancelled events never fire and the others keep their (time, seq) order", () => {
    const seed = "queue-model";
    const rng = new RandomStreams(seed).get("ops");
    const q = new EventQueue();
    const live = new Map<number, QueuedEvent>(); // by seq
    let now = 0;
    const event = (time: number, seq: number): QueuedEvent => ({
      time,
      seq,
      queued: false,
      cancelled: false,
      fire() {},
    });
    const nextLive = (): QueuedEvent | undefined =>
      [...live.values()].sort((a, b) => a.time - b.time || a.seq - b.seq)[0];
    for (let seq = 0; seq < 20_000; seq++) {
      const r = rng.next();
      if (r < 0.5 || live.size === 0) {
        // Many ties, and long timeouts that are mostly cancelled (as requests' are).
        const e = event(now + (rng.next() < 0.5 ? 30_000 : Math.floor(rng.next() * 50)), seq);
        q.push(e);
        live.set(seq, e);
      } else if (r < 0.92) {
        const ids = [...live.keys()];
        const e = live.get(ids[Math.floor(rng.next() * ids.length)])!;
        q.cancel(e);
        q.cancel(e); // a second cancel is a no-op
        live.delete(e.seq);
      } else {
        const expected = nextLive();
        const e = q.pop();
        assert.equal(e, expected, `seed ${seed}, step ${seq}`);
        if (e !== undefined) {
          live.delete(e.seq);
          now = e.time;
          q.cancel(e); // cancelling a popped event changes nothing
        }
      }
      assert.equal(q.size, live.size, `seed ${seed}, step ${seq}`);
    }
    assert.ok(q.compactions > 0, "the heap was rebuilt without its cancelled events");
    const rest: QueuedEvent[] = [];
    for (let e = q.pop(); e !== undefined; e = q.pop()) rest.push(e);
    assert.deepEqual(
      rest.map((e) => e.seq),
      [...live.values()].sort((a, b) => a.time - b.time || a.seq - b.seq).map((e) => e.seq),
      `seed ${seed}`,
    );
  });

  void test("a replied request leaves no timeout timer behind", () => {
    const { k } = echoCluster();
    const base = k.pendingEvents;
    const replies = Array.from({ length: 100 }, (_, i) => k.contextOf("a").request("b", { i }));
    k.advance(100);
    assert.ok(replies.every((f) => f.fulfilled));
    assert.equal(k.pendingEvents, base);
  });
});

// ---- network ------------------------------------------------------------------------------------

void describe("network latency", () => {
  void test("uniform latency stays within [minMs, maxMs] and covers the range", () => {
    const { k, send } = echoCluster({ network: { latency: { kind: "uniform", minMs: 5, maxMs: 7 } } });
    sendSpaced(k, send, 500, 100);
    const l = latencies(k);
    assert.equal(l.length, 500);
    assert.ok(Math.min(...l) >= 5, `min ${Math.min(...l)}`);
    assert.ok(Math.max(...l) <= 7, `max ${Math.max(...l)}`);
    assert.ok(Math.min(...l) < 5.2 && Math.max(...l) > 6.8, "latency should vary over the whole range");
  });

  void test("fixed latency is exact", () => {
    const { k, send } = echoCluster({ network: { latency: { kind: "fixed", ms: 3 } } });
    sendSpaced(k, send, 50, 100);
    const l = latencies(k);
    assert.equal(l.length, 50);
    for (const x of l) assert.equal(x, 3);
  });

  void test("exponential latency is never below minMs and averages about meanMs", () => {
    const { k, send } = echoCluster({ network: { latency: { kind: "exponential", minMs: 3, meanMs: 10 } } });
    sendSpaced(k, send, 2000, 1000);
    const l = latencies(k);
    assert.equal(l.length, 2000);
    assert.ok(Math.min(...l) >= 3, `min ${Math.min(...l)}`);
    assert.ok(Math.min(...l) < 3.1, "the minimum should be approached");
    const mean = l.reduce((s, x) => s + x, 0) / l.length;
    assert.ok(mean > 9 && mean < 11, `mean ${mean}`);
  });
});

void describe("network faults", () => {
  void test("dropRate 0 delivers every message, dropRate 1 none", () => {
    const kept = echoCluster({ network: { dropRate: 0 } });
    for (let i = 0; i < 100; i++) kept.send("a", "b", i);
    kept.k.advance(1000);
    assert.equal(kept.bodiesAt("b").length, 100);
    assert.equal(eventsOf(kept.k, "net.drop").length, 0);

    const lost = echoCluster({ network: { dropRate: 1 } });
    for (let i = 0; i < 100; i++) lost.send("a", "b", i);
    lost.k.advance(1000);
    assert.equal(lost.received.length, 0);
    const drops = eventsOf(lost.k, "net.drop");
    assert.equal(drops.length, 100);
    assert.ok(drops.every((d) => d.reason === "random" && d.node === "a" && d.to === "b"));
  });

  void test("a dropped request fails by timeout", () => {
    const { k } = echoCluster({ network: { dropRate: 1 } });
    const f = k.contextOf("a").request("b", { x: 1 }, { timeoutMs: 250 });
    k.advance(249);
    assert.equal(f.settled, false);
    k.advance(1);
    assert.ok(f.error instanceof NetworkError);
    assert.equal(f.error.kind, "NetworkTimeout");
  });

  void test("duplicateRate 1 delivers every message twice", () => {
    const { k, send, bodiesAt } = echoCluster({ network: { duplicateRate: 1 } });
    for (let i = 0; i < 20; i++) send("a", "b", i);
    k.advance(1000);
    const got = bodiesAt("b") as number[];
    assert.equal(got.length, 40);
    for (let i = 0; i < 20; i++) assert.equal(got.filter((x) => x === i).length, 2, `message ${i}`);
    assert.equal(eventsOf(k, "net.duplicate").length, 20);
    // Both copies carry the original message id.
    const ids = eventsOf(k, "net.deliver").map((e) => e.msgId);
    assert.equal(new Set(ids).size, 20);
  });

  void test("a duplicated request is answered once to the requester", () => {
    const { k } = echoCluster({ network: { duplicateRate: 1 } });
    let settles = 0;
    const f = k.contextOf("a").request("b", "hi");
    f.onSettle(() => settles++);
    k.advance(1000);
    assert.deepEqual(f.value, { echo: "hi" });
    assert.equal(settles, 1);
  });

  void test("per-link FIFO holds without reordering, even with widely varying latency", () => {
    const { k, send, bodiesAt } = echoCluster({ network: { latency: { kind: "uniform", minMs: 0.2, maxMs: 50 } } });
    for (let i = 0; i < 200; i++) k.schedule(i * 0.1, () => send("a", "b", i));
    k.advance(10_000);
    assert.deepEqual(
      bodiesAt("b"),
      Array.from({ length: 200 }, (_, i) => i),
    );
  });

  void test("reorderRate lets messages overtake each other, delayed by reorderDelayMs", () => {
    const { k, send, bodiesAt } = echoCluster({
      network: { latency: { kind: "fixed", ms: 1 }, reorderRate: 0.3, reorderDelayMs: 10 },
    });
    for (let i = 0; i < 200; i++) k.schedule(i, () => send("a", "b", i));
    k.advance(10_000);
    const got = bodiesAt("b") as number[];
    assert.equal(got.length, 200, "reordering loses nothing");
    assert.deepEqual(
      [...got].sort((x, y) => x - y),
      Array.from({ length: 200 }, (_, i) => i),
    );
    assert.notDeepEqual(
      got,
      Array.from({ length: 200 }, (_, i) => i),
    );
    const l = latencies(k);
    assert.ok(
      l.every((x) => x === 1 || x === 11),
      `latencies ${[...new Set(l)].join(",")}`,
    );
    assert.ok(l.filter((x) => x === 11).length > 20);
  });

  void test("reorderRate 0 keeps order with the same latency settings", () => {
    const { k, send, bodiesAt } = echoCluster({
      network: { latency: { kind: "fixed", ms: 1 }, reorderRate: 0, reorderDelayMs: 10 },
    });
    for (let i = 0; i < 200; i++) k.schedule(i, () => send("a", "b", i));
    k.advance(10_000);
    assert.deepEqual(
      bodiesAt("b"),
      Array.from({ length: 200 }, (_, i) => i),
    );
  });
});

void describe("partitions", () => {
  void test("a symmetric partition blocks both directions and nothing else", () => {
    const { k, send, bodiesAt } = echoCluster();
    k.partition(["a"], ["b"]);
    assert.equal(k.isPartitioned("a", "b"), true);
    assert.equal(k.isPartitioned("b", "a"), true);
    send("a", "b", "a->b");
    send("b", "a", "b->a");
    send("a", "c", "a->c");
    send("c", "b", "c->b");
    k.advance(100);
    assert.deepEqual(bodiesAt("b"), ["c->b"]);
    assert.deepEqual(bodiesAt("a"), []);
    assert.deepEqual(bodiesAt("c"), ["a->c"]);
    const drops = eventsOf(k, "net.drop");
    assert.deepEqual(
      drops.map((d) => [d.node, d.to, d.reason]),
      [
        ["a", "b", "partition"],
        ["b", "a", "partition"],
      ],
    );
  });

  void test("a one-way partition blocks only a → b", () => {
    const { k, send, bodiesAt } = echoCluster();
    k.partition(["a"], ["b"], true);
    send("a", "b", "a->b");
    send("b", "a", "b->a");
    k.advance(100);
    assert.deepEqual(bodiesAt("b"), []);
    assert.deepEqual(bodiesAt("a"), ["b->a"]);
  });

  void test("a one-way partition lets requests arrive but loses their replies", () => {
    const { k, received } = echoCluster();
    k.partition(["b"], ["a"], true);
    const f = k.contextOf("a").request("b", "q", { timeoutMs: 1000 });
    k.advance(2000);
    assert.equal(received.length, 0);
    assert.ok(f.error instanceof NetworkError && f.error.kind === "NetworkTimeout");
    const delivered = eventsOf(k, "net.deliver");
    assert.deepEqual(
      delivered.map((e) => e.node),
      ["b"],
      "the request reached b",
    );
  });

  void test("a message in flight when the partition starts is lost", () => {
    const { k, send, bodiesAt } = echoCluster({ network: { latency: { kind: "fixed", ms: 10 } } });
    send("a", "b", "in flight");
    k.advance(5);
    k.partition(["a"], ["b"]);
    k.advance(10);
    assert.deepEqual(bodiesAt("b"), []);
    assert.equal(eventsOf(k, "net.drop")[0]?.reason, "partition");
  });

  void test("heal restores every link", () => {
    const { k, send, bodiesAt } = echoCluster();
    k.partition(["a"], ["b", "c"]);
    k.partition(["c"], ["b"], true);
    send("a", "b", 1);
    k.advance(100);
    k.heal();
    assert.equal(k.isPartitioned("a", "b"), false);
    assert.equal(k.isPartitioned("c", "b"), false);
    send("a", "b", 2);
    send("b", "a", 3);
    send("c", "b", 4);
    send("a", "c", 5);
    k.advance(100);
    assert.deepEqual(bodiesAt("b"), [2, 4]);
    assert.deepEqual(bodiesAt("a"), [3]);
    assert.deepEqual(bodiesAt("c"), [5]);
    assert.equal(eventsOf(k, "net.heal").length, 1);
  });
});

// ---- node lifecycle ---------------------------------------------------------------------------

void describe("crash and restart", () => {
  void test("a message in flight to a node that crashes is lost even if it restarts before delivery", () => {
    const { k, send, bodiesAt } = echoCluster({ network: { latency: { kind: "fixed", ms: 10 } } });
    send("a", "b", "before crash");
    k.advance(2);
    k.crash("b");
    k.advance(2);
    k.restart("b");
    assert.equal(k.isUp("b"), true);
    k.advance(20); // past the original delivery time
    assert.deepEqual(bodiesAt("b"), []);
    const drop = eventsOf(k, "net.drop");
    assert.equal(drop.length, 1);
    assert.equal(drop[0].reason, "crashed");
    // The restarted node does receive what is sent to it afterwards.
    send("a", "b", "after restart");
    k.advance(20);
    assert.deepEqual(bodiesAt("b"), ["after restart"]);
  });

  void test("a message sent to a down node is dropped", () => {
    const { k, send, bodiesAt } = echoCluster();
    k.crash("b");
    send("a", "b", "x");
    k.advance(100);
    assert.deepEqual(bodiesAt("b"), []);
    assert.equal(eventsOf(k, "net.drop")[0]?.reason, "down");
  });

  void test("a crashed node's timers never fire, not even after it restarts", () => {
    const k = new Kernel();
    const fired: string[] = [];
    k.addNode("n", (ctx) => {
      ctx.setTimer(100, () => fired.push(`timer of incarnation ${ctx.incarnation}`));
      return { onRequest: () => undefined };
    });
    const oldCtx = k.contextOf("n");
    k.advance(50);
    k.crash("n");
    // A timer set through the dead incarnation's context is ignored as well.
    oldCtx.setTimer(1, () => fired.push("late timer of incarnation 0"));
    k.advance(10);
    k.restart("n");
    k.advance(1000);
    // Only the new incarnation's own timer fires (at restart + 100).
    assert.deepEqual(fired, ["timer of incarnation 1"]);
  });

  void test("a crashed node's pending requests never settle, and its old context is inert", () => {
    const { k, received } = echoCluster({ network: { latency: { kind: "fixed", ms: 1 } } });
    const ctxA = k.contextOf("a");
    const f = ctxA.request("b", { delayMs: 100 }, { timeoutMs: 500 });
    k.advance(50);
    k.crash("a");
    const late = ctxA.request("b", "from a dead incarnation");
    ctxA.send("b", "from a dead incarnation");
    k.restart("a");
    k.advance(3_600_000);
    assert.equal(f.settled, false, "neither the reply nor the timeout settles it");
    assert.equal(late.settled, false);
    assert.equal(received.length, 0);
    // b did answer the old request; the answer settles nothing in a's new incarnation.
    assert.ok(eventsOf(k, "net.send").some((e) => e.node === "b" && e.to === "a"));
  });

  void test("peers' requests to a crashing node reject with HostUnreachable", () => {
    const { k } = echoCluster({ network: { latency: { kind: "uniform", minMs: 1, maxMs: 2 } } });
    const f = k.contextOf("a").request("b", { noReply: true }, { timeoutMs: 10_000 });
    const g = k.contextOf("c").request("b", { delayMs: 500 }, { timeoutMs: 10_000 });
    const toOther = k.contextOf("a").request("c", { delayMs: 500 });
    k.advance(100);
    const crashedAt = k.now();
    k.crash("b");
    k.advance(10);
    for (const fut of [f, g]) {
      assert.ok(fut.error instanceof NetworkError, "rejected with a NetworkError");
      assert.equal(fut.error.kind, "HostUnreachable");
      assert.equal(fut.error.host, "b");
    }
    assert.equal(toOther.settled, false, "requests to other nodes are unaffected");
    k.advance(1000);
    assert.deepEqual(toOther.value, { echo: { delayMs: 500 } });
    assert.ok(k.now() > crashedAt);
  });

  void test("a request to a down node rejects with HostUnreachable after one hop", () => {
    const { k } = echoCluster({ network: { latency: { kind: "fixed", ms: 3 } } });
    k.crash("b");
    const t0 = k.now();
    let rejectedAt = -1;
    const f = k.contextOf("a").request("b", "hello?");
    f.onSettle(() => (rejectedAt = k.now()));
    k.advance(100);
    assert.ok(f.error instanceof NetworkError);
    assert.equal(f.error.kind, "HostUnreachable");
    assert.equal(rejectedAt - t0, 3);
  });

  void test("a request with no reply rejects with NetworkTimeout exactly at its timeout", () => {
    const { k } = echoCluster();
    const t0 = k.now();
    let rejectedAt = -1;
    const f = k.contextOf("a").request("b", { noReply: true }, { timeoutMs: 750 });
    f.onSettle(() => (rejectedAt = k.now()));
    k.advance(749);
    assert.equal(f.settled, false);
    k.advance(10);
    assert.ok(f.error instanceof NetworkError);
    assert.equal(f.error.kind, "NetworkTimeout");
    assert.equal(f.error.host, "b");
    assert.equal(rejectedAt - t0, 750);
  });

  void test("a reply that arrives in time cancels the timeout", () => {
    const { k } = echoCluster();
    const f = k.contextOf("a").request("b", { delayMs: 100 }, { timeoutMs: 200 });
    k.advance(1000);
    assert.deepEqual(f.value, { echo: { delayMs: 100 } });
  });

  void test("restart runs the factory again: durable state kept, volatile state lost, new incarnation", () => {
    const k = new Kernel();
    const durable = { writes: 0 };
    const starts: { incarnation: number; durable: object }[] = [];
    k.addNode("n", (ctx) => {
      starts.push({ incarnation: ctx.incarnation, durable });
      let volatile = 0;
      return {
        onRequest(_from, _body, reply) {
          durable.writes++;
          volatile++;
          reply({ durable: durable.writes, volatile });
        },
      };
    });
    k.addNode("client", () => ({ onRequest: () => undefined }));
    const ask = (): unknown => {
      const f = k.contextOf("client").request("n", "inc");
      k.runUntil(() => f.settled);
      return f.value;
    };
    assert.deepEqual(ask(), { durable: 1, volatile: 1 });
    assert.deepEqual(ask(), { durable: 2, volatile: 2 });
    assert.equal(k.incarnationOf("n"), 0);
    k.crash("n");
    assert.equal(k.isUp("n"), false);
    k.restart("n");
    assert.equal(k.incarnationOf("n"), 1);
    assert.equal(k.contextOf("n").incarnation, 1);
    assert.deepEqual(ask(), { durable: 3, volatile: 1 });
    assert.equal(starts.length, 2);
    assert.equal(starts[1].incarnation, 1);
    assert.equal(starts[0].durable, starts[1].durable);
    const restart = eventsOf(k, "node.restart");
    assert.deepEqual(
      restart.map((e) => [e.node, e.incarnation]),
      [["n", 1]],
    );
  });

  void test("crash and restart are no-ops on a node already in that state", () => {
    const k = new Kernel();
    let starts = 0;
    k.addNode("n", () => {
      starts++;
      return { onRequest: () => undefined };
    });
    k.restart("n");
    k.crash("n");
    k.crash("n");
    assert.equal(k.incarnationOf("n"), 1);
    k.restart("n");
    assert.equal(starts, 2);
    assert.equal(eventsOf(k, "node.crash").length, 1);
  });
});

// ---- clocks -------------------------------------------------------------------------------------

void describe("per-node clocks", () => {
  function clockNode(): { k: Kernel; ctx: () => NodeContext } {
    const k = new Kernel();
    k.addNode("n", () => ({ onRequest: () => undefined }));
    k.addNode("m", () => ({ onRequest: () => undefined }));
    return { k, ctx: () => k.contextOf("n") };
  }

  void test("an offset shifts the node's clock only", () => {
    const { k, ctx } = clockNode();
    k.advance(12_345);
    k.setClock("n", 5000);
    assert.equal(k.localNow("n"), k.now() + 5000);
    assert.equal(ctx().now(), k.now() + 5000);
    assert.equal(k.localNow("m"), k.now());
    k.setClock("n", -250);
    assert.equal(k.localNow("n"), k.now() - 250);
  });

  void test("drift accumulates from when the clock is set, without a jump", () => {
    const { k } = clockNode();
    k.advance(86_400_000); // one day into the run
    k.setClock("n", 500, 100_000); // +500 ms, running 10 % fast
    assert.equal(k.localNow("n") - k.now(), 500);
    k.advance(10_000);
    assert.ok(Math.abs(k.localNow("n") - k.now() - 1500) < 1e-6, `skew ${k.localNow("n") - k.now()}`);
  });

  void test("timers are measured in the node's clock", () => {
    const { k, ctx } = clockNode();
    const t0 = k.now();
    const fired: [string, number][] = [];
    k.setClock("n", 0, 100_000); // 10 % fast: 1100 local ms pass in 1000 true ms
    ctx().setTimer(1100, () => fired.push(["fast", k.now() - t0]));
    k.setClock("m", 0, -500_000); // half speed: 1000 local ms take 2000 true ms
    k.contextOf("m").setTimer(1000, () => fired.push(["slow", k.now() - t0]));
    k.advance(5000);
    assert.equal(fired.length, 2);
    assert.equal(fired[0][0], "fast");
    assert.ok(Math.abs(fired[0][1] - 1000) < 1e-6, `fast timer at ${fired[0][1]}`);
    assert.equal(fired[1][0], "slow");
    assert.ok(Math.abs(fired[1][1] - 2000) < 1e-6, `slow timer at ${fired[1][1]}`);
  });

  void test("an offset alone does not change timer durations", () => {
    const { k, ctx } = clockNode();
    const t0 = k.now();
    k.setClock("n", 60_000);
    let at = -1;
    ctx().setTimer(300, () => (at = k.now() - t0));
    k.advance(1000);
    assert.equal(at, 300);
  });

  void test("setClock is traced", () => {
    const { k } = clockNode();
    k.setClock("n", 7, 3);
    const [e] = eventsOf(k, "clock.set");
    assert.equal(e.node, "n");
    assert.equal(e.offsetMs, 7);
    assert.equal(e.driftPpm, 3);
  });
});

// ---- failpoints ---------------------------------------------------------------------------------

void describe("FailPointRegistry", () => {
  const registry = (): FailPointRegistry => {
    const rng = new RandomStreams("fp").get("failpoints");
    return new FailPointRegistry(() => rng.next());
  };
  const hits = (r: FailPointRegistry, name: string, n: number): boolean[] =>
    Array.from({ length: n }, () => r.check(name) !== undefined);

  void test("an unconfigured failpoint is off", () => {
    const r = registry();
    assert.equal(r.check("fp"), undefined);
    assert.equal(r.isOn("fp"), false);
  });

  void test("alwaysOn fires every time with its data; off stops it", () => {
    const r = registry();
    assert.equal(r.configure("fp", "alwaysOn", { errorCode: 11600 }), 0);
    assert.equal(r.isOn("fp"), true);
    assert.deepEqual(r.check("fp"), { errorCode: 11600 });
    assert.deepEqual(hits(r, "fp", 4), [true, true, true, true]);
    assert.equal(r.configure("fp", "off"), 5, "count = times entered before");
    assert.equal(r.isOn("fp"), false);
    assert.deepEqual(hits(r, "fp", 3), [false, false, false]);
  });

  void test("{times: n} fires n times then turns itself off", () => {
    const r = registry();
    r.configure("fp", { times: 2 });
    assert.deepEqual(hits(r, "fp", 5), [true, true, false, false, false]);
    assert.equal(r.isOn("fp"), false);
  });

  void test("whenOff calls its listener once, when the failpoint goes off (configured off or its times used up)", () => {
    const r = registry();
    const calls: string[] = [];
    r.configure("fp", "alwaysOn");
    r.whenOff("fp", () => calls.push("a"));
    const cancelB = r.whenOff("fp", () => calls.push("b"));
    r.configure("fp", { times: 1 }); // a new mode, still on
    assert.deepEqual(calls, []);
    cancelB();
    r.check("fp"); // the last activation turns it off
    assert.deepEqual(calls, ["a"]);
    r.configure("fp", "alwaysOn");
    r.configure("fp", "off");
    r.configure("fp", "off");
    assert.deepEqual(calls, ["a"], "a listener is called once");
  });

  void test("{skip: n} skips n checks then fires every time", () => {
    const r = registry();
    r.configure("fp", { skip: 3 });
    assert.deepEqual(hits(r, "fp", 7), [false, false, false, true, true, true, true]);
  });

  void test("activationProbability fires at about that rate; 0 never, 1 always", () => {
    const r = registry();
    r.configure("never", { activationProbability: 0 });
    r.configure("always", { activationProbability: 1 });
    r.configure("half", { activationProbability: 0.5 });
    assert.ok(hits(r, "never", 200).every((h) => !h));
    assert.ok(hits(r, "always", 200).every((h) => h));
    const n = hits(r, "half", 2000).filter((h) => h).length;
    assert.ok(n > 900 && n < 1100, `${n} of 2000`);
  });

  void test("the returned count is the cumulative number of times entered, across modes", () => {
    // MongoDB's FailPoint::Impl::setMode returns _hitCount, which no mode change resets
    // (src/mongo/util/fail_point.cpp).
    const r = registry();
    assert.equal(r.configure("fp", { times: 2 }), 0);
    hits(r, "fp", 5); // fires twice, then exhausts
    assert.equal(r.configure("fp", "alwaysOn"), 2);
    hits(r, "fp", 3);
    assert.equal(r.configure("fp", "off"), 5);
    hits(r, "fp", 3); // off: not entered
    assert.equal(r.configure("fp", { skip: 1 }), 5);
    hits(r, "fp", 3); // skips one, fires twice
    assert.equal(r.configure("fp", "off"), 7);
    assert.equal(r.configure("other", "alwaysOn"), 0, "counts are per failpoint");
  });

  void test("a `when` filter that does not match consumes no activation", () => {
    const r = registry();
    r.configure("fp", { times: 1 }, { cmd: "insert" });
    assert.equal(
      r.check("fp", (d) => d.cmd === "find"),
      undefined,
    );
    assert.deepEqual(
      r.check("fp", (d) => d.cmd === "insert"),
      { cmd: "insert" },
    );
    assert.equal(r.check("fp"), undefined);
  });

  void test("list() shows the active failpoints with their counts", () => {
    const r = registry();
    r.configure("x", "alwaysOn", { a: 1 });
    r.configure("y", { skip: 1 });
    r.check("x");
    assert.deepEqual(r.list(), [
      { name: "x", mode: "alwaysOn", data: { a: 1 }, timesEntered: 1 },
      { name: "y", mode: { skip: 1 }, data: {}, timesEntered: 0 },
    ]);
  });
});

// ---- futures and tasks --------------------------------------------------------------------------

void describe("Future, spawn and wait", () => {
  void test("a task waiting only on settled futures completes synchronously", () => {
    const t = spawn(
      (function* (): Task<number> {
        const a = yield* wait(Future.resolved(20));
        const b = yield* wait(Future.resolved(22));
        return a + b;
      })(),
    );
    assert.equal(t.settled, true);
    assert.equal(t.value, 42);
  });

  void test("a task resumes synchronously, inside the call that settles its future", () => {
    const f = new Future<string>();
    const steps: string[] = [];
    const t = spawn(
      (function* (): Task<string> {
        steps.push("start");
        const v = yield* wait(f);
        steps.push(`got ${v}`);
        return v.toUpperCase();
      })(),
    );
    assert.deepEqual(steps, ["start"]);
    assert.equal(t.settled, false);
    f.resolve("x");
    assert.deepEqual(steps, ["start", "got x"]);
    assert.equal(t.value, "X");
  });

  void test("a rejection is thrown into the generator at the yield", () => {
    const f = new Future<number>();
    const boom = new Error("boom");
    let caught: unknown;
    const t = spawn(
      (function* (): Task<string> {
        try {
          yield* wait(f);
          return "not reached";
        } catch (e) {
          caught = e;
          return "recovered";
        }
      })(),
    );
    f.reject(boom);
    assert.equal(caught, boom);
    assert.equal(t.value, "recovered");
  });

  void test("an uncaught error rejects the task's future", () => {
    const boom = new Error("boom");
    const t = spawn(
      (function* (): Task<number> {
        yield* wait(Future.rejected(boom));
        return 1;
      })(),
    );
    assert.equal(t.settled, true);
    assert.equal(t.fulfilled, false);
    assert.equal(t.error, boom);
    assert.throws(() => t.value, /boom/);
  });

  void test("a thrown error before any yield rejects the task's future", () => {
    const t = spawn(
      // eslint-disable-next-line require-yield
      (function* (): Task<number> {
        throw new Error("early");
      })(),
    );
    assert.match(String(t.error), /early/);
  });

  void test("a long chain of settled futures does not grow the stack", () => {
    const t = spawn(
      (function* (): Task<number> {
        let sum = 0;
        for (let i = 0; i < 200_000; i++) sum += yield* wait(Future.resolved(1));
        return sum;
      })(),
    );
    assert.equal(t.value, 200_000);
  });

  void test("first settlement wins; callbacks run once, immediately if already settled", () => {
    const f = new Future<number>();
    const seen: unknown[] = [];
    f.onSettle((r) => seen.push(r.ok ? r.value : r.error));
    f.resolve(1);
    f.resolve(2);
    f.reject(new Error("late"));
    f.onSettle((r) => seen.push(r.ok ? r.value : r.error));
    assert.deepEqual(seen, [1, 1]);
    assert.equal(f.value, 1);
    assert.throws(() => new Future<number>().value, /pending/);
  });

  void test("Future.all keeps input order, rejects with the first rejection, and [] is immediate", () => {
    const a = new Future<string>();
    const b = new Future<string>();
    const c = new Future<string>();
    const all = Future.all([a, b, c]);
    c.resolve("c");
    a.resolve("a");
    assert.equal(all.settled, false);
    b.resolve("b");
    assert.deepEqual(all.value, ["a", "b", "c"]);

    const x = new Future<number>();
    const y = new Future<number>();
    const failed = Future.all([x, y]);
    const first = new Error("first");
    y.reject(first);
    x.reject(new Error("second"));
    assert.equal(failed.error, first);

    const empty = Future.all<number>([]);
    assert.deepEqual(empty.value, []);
  });

  void test("map transforms values and turns a throw into a rejection", () => {
    const f = new Future<number>();
    const doubled = f.map((v) => v * 2);
    const broken = f.map((): number => {
      throw new Error("in map");
    });
    f.resolve(21);
    assert.equal(doubled.value, 42);
    assert.match(String(broken.error), /in map/);
  });

  void test("tasks over kernel requests run in virtual time", () => {
    const { k } = echoCluster({ network: { latency: { kind: "fixed", ms: 2 } } });
    const ctx = k.contextOf("a");
    const t0 = k.now();
    const t = spawn(
      (function* (): Task<unknown[]> {
        const first = yield* wait(ctx.request("b", 1));
        const both = yield* wait(Future.all([ctx.request("b", 2), ctx.request("c", 3)]));
        return [first, ...both];
      })(),
    );
    k.runUntil(() => t.settled);
    assert.deepEqual(t.value, [{ echo: 1 }, { echo: 2 }, { echo: 3 }]);
    assert.equal(k.now() - t0, 8, "two sequential round trips of 2 × 2 ms");
  });
});

// ---- fault schedules ----------------------------------------------------------------------------

void describe("fault schedules", () => {
  void test("scheduleFaults applies crash, restart, partition, heal and clock at their virtual times", () => {
    const { k, send, bodiesAt } = echoCluster({ network: { latency: { kind: "fixed", ms: 1 } } });
    const target: FaultTarget = {
      crash: (n) => k.crash(n),
      restart: (n) => k.restart(n),
      partition: (a, b, oneWay) => k.partition(a, b, oneWay),
      heal: () => k.heal(),
      configureNetwork: (c) => k.configureNetwork(c),
      setClock: (n, o, d) => k.setClock(n, o, d),
      configureFailPoint: (n, name, mode, data) => k.contextOf(n).failpoints.configure(name, mode, data),
    };
    k.advance(1000);
    const t0 = k.now();
    scheduleFaults(k, target, [
      { at: 300, kind: "partition", a: ["a"], b: ["c"] },
      { at: 100, kind: "crash", node: "b" },
      { at: 200, kind: "restart", node: "b" },
      { at: 400, kind: "heal" },
      { at: 50, kind: "clock", node: "c", offsetMs: 99 },
      { at: 60, kind: "failpoint", node: "a", name: "fp", mode: "alwaysOn" },
    ]);
    k.advance(99);
    assert.equal(k.isUp("b"), true);
    assert.equal(k.localNow("c") - k.now(), 99);
    assert.equal(k.contextOf("a").failpoints.isOn("fp"), true);
    k.advance(1);
    assert.equal(k.isUp("b"), false, "crashed at +100");
    k.advance(99);
    assert.equal(k.isUp("b"), false);
    k.advance(1);
    assert.equal(k.isUp("b"), true, "restarted at +200");
    k.advance(100);
    assert.equal(k.isPartitioned("a", "c"), true, "partitioned at +300");
    send("a", "c", "during partition");
    k.advance(100);
    assert.equal(k.isPartitioned("a", "c"), false, "healed at +400");
    send("a", "c", "after heal");
    k.advance(10);
    assert.deepEqual(bodiesAt("c"), ["after heal"]);
    const at = (type: KernelTraceEvent["type"]): number[] =>
      k.trace
        .all()
        .filter((e) => e.type === type)
        .map((e) => e.time - t0);
    assert.deepEqual(at("clock.set"), [50]);
    assert.deepEqual(at("node.crash"), [100]);
    assert.deepEqual(at("node.restart"), [200]);
    assert.deepEqual(at("net.partition"), [300]);
    assert.deepEqual(at("net.heal"), [400]);
  });

  void test("a network fault changes the model from its time on", () => {
    const { k, send, bodiesAt } = echoCluster();
    const target = {
      configureNetwork: (c: Parameters<Kernel["configureNetwork"]>[0]) => k.configureNetwork(c),
    } as FaultTarget;
    scheduleFaults(k, target, [{ at: 100, kind: "network", config: { dropRate: 1 } }]);
    send("a", "b", "early");
    k.advance(150);
    send("a", "b", "late");
    k.advance(100);
    assert.deepEqual(bodiesAt("b"), ["early"]);
    assert.equal(k.networkConfig.dropRate, 1);
  });
});

// ---- random streams -----------------------------------------------------------------------------

void describe("RandomStreams", () => {
  const draw = (s: RandomStreams, purpose: string, n: number): number[] =>
    Array.from({ length: n }, () => s.get(purpose).next());

  void test("the same seed and purpose give the same numbers", () => {
    assert.deepEqual(draw(new RandomStreams("42"), "x", 20), draw(new RandomStreams("42"), "x", 20));
  });

  void test("different seeds or purposes give different numbers", () => {
    const base = draw(new RandomStreams("42"), "x", 20);
    assert.notDeepEqual(draw(new RandomStreams("43"), "x", 20), base);
    assert.notDeepEqual(draw(new RandomStreams("42"), "y", 20), base);
  });

  void test("a consumer of another purpose does not shift a stream", () => {
    const alone = new RandomStreams("7");
    const shared = new RandomStreams("7");
    const expected = draw(alone, "network", 50);
    const got: number[] = [];
    for (let i = 0; i < 50; i++) {
      got.push(shared.get("network").next());
      draw(shared, "sessions", i % 3); // interleaved consumer
    }
    assert.deepEqual(got, expected);
  });

  void test("a node's random draws do not shift the network's latencies", () => {
    const run = (noisy: boolean): number[] => {
      const k = new Kernel({ seed: 99 });
      k.addNode("a", (ctx) => ({
        onRequest: () => undefined,
        onMessage: () => {
          if (noisy) for (let i = 0; i < 10; i++) ctx.random("uuids").bytes(16);
        },
      }));
      k.addNode("b", (ctx) => ({
        onRequest: () => undefined,
        onMessage: (from) => ctx.send(from, "pong"),
      }));
      for (let i = 0; i < 50; i++) k.schedule(i * 10, () => k.contextOf("a").send("b", "ping"));
      k.advance(10_000);
      return latencies(k);
    };
    const quiet = run(false);
    assert.equal(quiet.length, 100);
    assert.deepEqual(run(true), quiet);
  });

  void test("Rng helpers stay in range", () => {
    const rng = new RandomStreams("r").get("p");
    for (let i = 0; i < 1000; i++) {
      const n = rng.int(3, 5);
      assert.ok(Number.isInteger(n) && n >= 3 && n <= 5);
      const x = rng.between(1, 2);
      assert.ok(x >= 1 && x < 2);
    }
    assert.equal(rng.chance(0), false);
    assert.equal(rng.chance(1), true);
    assert.equal(rng.bytes(16).length, 16);
    assert.ok(["a", "b"].includes(rng.pick(["a", "b"])));
  });
});

// ---- trace --------------------------------------------------------------------------------------

void describe("Trace", () => {
  /** A small run with requests, replies, timers, a crash and a partition. */
  const scenario = (seed: number | string): Kernel => {
    const { k } = echoCluster({ seed });
    const ctx = k.contextOf("a");
    ctx.request("b", { delayMs: 5 });
    ctx.request("c", { q: 1 });
    k.advance(3);
    k.partition(["a"], ["c"]);
    ctx.send("c", "lost");
    k.crash("b");
    k.advance(10);
    k.heal();
    k.restart("b");
    ctx.request("b", { q: 2 });
    k.advance(100);
    return k;
  };

  void test("equal runs give equal traces and hashes; different seeds different hashes", () => {
    const x = scenario(5);
    const y = scenario(5);
    assert.equal(x.trace.hash(), y.trace.hash());
    assert.deepEqual(x.trace.all(), y.trace.all());
    assert.match(x.trace.hash(), /^[0-9a-f]{64}$/);
    assert.notEqual(scenario(6).trace.hash(), x.trace.hash());
  });

  void test("the hash covers event contents", () => {
    const run = (driftPpm: number): string => {
      const k = new Kernel();
      k.addNode("n", () => ({ onRequest: () => undefined }));
      k.setClock("n", 0, driftPpm);
      return k.trace.hash();
    };
    assert.equal(run(1), run(1));
    assert.notEqual(run(0), run(1));
  });

  void test("all() materialises compact message events with their fields", () => {
    const { k } = echoCluster({ network: { latency: { kind: "fixed", ms: 4 } } });
    k.advance(10);
    const t0 = k.now();
    k.contextOf("a").request("b", { q: 1 }, { label: "find" });
    k.advance(100);
    const events = k.trace.all();
    assert.deepEqual(events, [
      { time: t0, seq: 0, node: "a", type: "net.send", to: "b", msgId: 1, label: "find", payload: { q: 1 } },
      { time: t0 + 4, seq: 1, node: "b", type: "net.deliver", from: "a", msgId: 1, label: "find", sentAt: t0 },
      { time: t0 + 4, seq: 2, node: "b", type: "net.send", to: "a", msgId: 2, label: "find:reply", payload: undefined },
      {
        time: t0 + 8,
        seq: 3,
        node: "a",
        type: "net.deliver",
        from: "b",
        msgId: 2,
        label: "find:reply",
        sentAt: t0 + 4,
      },
    ]);
    assert.equal(k.trace.length, 4);
  });

  void test("seq is the position in the trace and time never decreases", () => {
    const k = scenario(3);
    const events = k.trace.all();
    assert.ok(events.length > 10);
    events.forEach((e, i) => {
      assert.equal(e.seq, i);
      assert.equal(typeof e.node, "string");
      if (i > 0) assert.ok(e.time >= events[i - 1].time);
    });
  });

  void test("a trace read earlier is a snapshot: later events do not change it", () => {
    const { k, send } = echoCluster();
    send("a", "b", 1);
    k.advance(10);
    const snapshot = k.trace.all();
    const copy = structuredClone(snapshot);
    send("a", "b", 2);
    k.advance(10);
    assert.deepEqual(snapshot, copy);
    assert.ok(k.trace.all().every((e) => typeof e === "object"));
    assert.equal(k.trace.all().length, copy.length + 2);
  });

  void test('on("*") sees every event live, in order, and off stops it', () => {
    const { k, send } = echoCluster({ network: { latency: { kind: "fixed", ms: 2 } } });
    const live: KernelTraceEvent[] = [];
    const liveTimes: number[] = [];
    const sends: KernelTraceEvent[] = [];
    const all = (e: KernelTraceEvent): void => {
      live.push(e);
      liveTimes.push(k.now());
    };
    const onSend = (e: KernelTraceEvent): void => void sends.push(e);
    k.trace.on("*", all);
    k.trace.on("net.send", onSend);
    send("a", "b", "x");
    k.contextOf("a").request("c", "y");
    assert.equal(live.length, 2, "the sends are seen as they happen, before any delivery");
    k.advance(1);
    k.crash("b");
    k.advance(100);
    assert.deepEqual(live, k.trace.all());
    assert.deepEqual(
      liveTimes,
      live.map((e) => e.time),
      "each event is emitted at its own virtual time",
    );
    assert.deepEqual(
      live.map((e) => e.type),
      ["net.send", "net.send", "node.crash", "net.drop", "net.deliver", "net.send", "net.deliver"],
    );
    assert.equal(sends.length, 3);
    k.trace.off("*", all);
    k.trace.off("net.send", onSend);
    send("a", "c", "z");
    k.advance(10);
    assert.equal(live.length, 7);
    assert.equal(sends.length, 3);
    assert.equal(k.trace.length, 9);
  });
});

void test("advance never runs an event past its deadline when cancelled events sit before it", () => {
  const kernel = new Kernel({ seed: 1 });
  const fired: number[] = [];
  const cancelled = kernel.schedule(10, () => fired.push(kernel.now()));
  kernel.schedule(100, () => fired.push(kernel.now()));
  cancelled.cancel();
  kernel.advance(50);
  assert.deepEqual(fired, [], "the event at +100 ms must not run during a 50 ms advance");
  assert.equal(kernel.now(), Date.UTC(2026, 0, 1) + 50);
  kernel.advance(50);
  assert.deepEqual(fired, [Date.UTC(2026, 0, 1) + 100]);
});
