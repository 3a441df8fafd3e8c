import { EventQueue, type QueuedEvent } from "./event-queue.js";
import { FailPointRegistry } from "./failpoints.js";
import { Future } from "./future.js";
import { DEFAULT_NETWORK, NetworkError, Partitions, sampleLatency, type NetworkConfig } from "./network.js";
import { RandomStreams, type Rng } from "./random.js";
import { SIMULATION_EPOCH, type Millis } from "./time.js";
import { Trace, type KernelTraceEvent, type TraceBase, type TraceInit } from "./trace.js";

/** Pass to a request's `reply` to close the connection instead (the caller gets a NetworkError). */
export const CLOSE_CONNECTION: unique symbol = Symbol("closeConnection");

/** A node's behaviour. Created anew at every (re)start; whatever it keeps in fields is volatile. */
export interface Process {
  /** A request from `from`; call `reply` exactly once, now or later. */
  onRequest(from: string, body: unknown, reply: (body: unknown) => void): void;
  /** A one-way message (no reply expected). */
  onMessage?(from: string, body: unknown): void;
}

/** Creates a node's process; runs at start and at every restart (its recovery hook). */
export type ProcessFactory<E extends TraceBase> = (ctx: NodeContext<E>) => Process;

/** A cancellable timer. */
export interface TimerHandle {
  cancel(): void;
}

/** Options of `NodeContext.request`. */
export interface RequestOptions {
  /** A short name for the trace (e.g. the command name). */
  readonly label?: string;
  /** Reject with NetworkTimeout if no reply arrives in this much time (default 30 s). */
  readonly timeoutMs?: number;
  /**
   * What the trace keeps as the message's payload instead of `body` (e.g. a summary of a huge
   * batch, so a long run does not retain every statement it ever sent).
   */
  readonly tracePayload?: unknown;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** Everything a node may do: read its own clock, send, set timers, draw random numbers, trace. */
export interface NodeContext<E extends TraceBase = KernelTraceEvent> {
  readonly name: string;
  /** Increases at every restart; 0 for the first run. */
  readonly incarnation: number;
  /** This node's clock (true time plus its offset and drift). */
  now(): Millis;
  send(to: string, body: unknown, label?: string): void;
  /** Sends a request and returns a future of the reply (NetworkError on failure). */
  request(to: string, body: unknown, options?: RequestOptions): Future<unknown>;
  /** Runs `fn` after `delayMs` of this node's clock, unless the node crashes first. */
  setTimer(delayMs: Millis, fn: () => void, label?: string): TimerHandle;
  /** A seeded stream for this node and purpose. */
  random(purpose: string): Rng;
  readonly failpoints: FailPointRegistry;
  /** Appends a trace event on this node. */
  record(event: DistributiveOmitNode<TraceInit<E | KernelTraceEvent>>): void;
}

type DistributiveOmitNode<T> = T extends unknown ? Omit<T, "node"> : never;

interface PendingRequest {
  readonly future: Future<unknown>;
  readonly to: string;
  readonly timer: TimerHandle;
}

type Envelope =
  | { readonly k: "req"; readonly id: number; readonly body: unknown }
  | { readonly k: "res"; readonly id: number; readonly body: unknown; readonly closed?: boolean }
  | { readonly k: "msg"; readonly body: unknown };

/**
 * A timer in the queue; it is its own cancel handle. (Every queued event is a class instance, so
 * the queue's comparisons see few shapes and read their times without boxing.)
 */
class TimerEvent implements QueuedEvent, TimerHandle {
  queued = false;
  cancelled = false;
  constructor(
    readonly time: number,
    readonly seq: number,
    private fn: () => void,
    private readonly queue: EventQueue,
  ) {}
  fire(): void {
    this.fn();
  }
  cancel(): void {
    this.queue.cancel(this);
    // What the callback holds (a request's future, and the reply it settles with) is freed now,
    // not when the dead timer leaves the heap.
    this.fn = noop;
  }
}

const noop = (): void => undefined;

/** A message on the wire (a class, not a closure: this is the hottest allocation). */
class Delivery<E extends TraceBase> implements QueuedEvent {
  queued = false;
  cancelled = false;
  readonly incarnation: number;
  constructor(
    private readonly kernel: Kernel<E>,
    readonly source: SimNode<E>,
    readonly target: SimNode<E>,
    readonly envelope: Envelope,
    readonly msgId: number,
    readonly label: string,
    readonly labelId: number,
    readonly sentAt: number,
    readonly time: number,
    readonly seq: number,
  ) {
    this.incarnation = target.incarnation;
  }
  fire(): void {
    this.kernel.deliver(this);
  }
}

class SimNode<E extends TraceBase> {
  up = true;
  incarnation = 0;
  offsetMs = 0;
  driftPpm = 0;
  /** True time of the last `setClock`: drift accumulates from there. */
  clockSetAt = 0;
  process: Process | undefined;
  context!: NodeContext<E>;
  failpoints!: FailPointRegistry;
  readonly pending = new Map<number, PendingRequest>();
  /** Per destination (indexed by its trace id): the latest delivery time scheduled, to keep links FIFO. */
  linkTail: number[] = [];
  constructor(
    readonly name: string,
    readonly factory: ProcessFactory<E>,
    /** The name's id in compact trace events. */
    readonly traceId: number,
  ) {}
}

/** Options of the kernel. */
export interface KernelOptions {
  readonly seed?: number | string;
  readonly network?: Partial<NetworkConfig>;
  /** Virtual start time (default 2026-01-01T00:00:00Z). */
  readonly startTime?: Millis;
}

/**
 * The discrete-event engine: a virtual clock, a scheduler ordered by (time, seq), seeded random
 * streams, a simulated network with faults, node lifecycle (crash/restart), per-node clocks and a
 * structured trace. Nothing here knows about MongoDB.
 */
export class Kernel<E extends TraceBase = KernelTraceEvent> {
  readonly random: RandomStreams;
  readonly trace: Trace<E | KernelTraceEvent>;
  private readonly queue = new EventQueue();
  private readonly nodes = new Map<string, SimNode<E>>();
  private readonly partitions = new Partitions();
  private readonly netRng: Rng;
  private network: NetworkConfig;
  private time: Millis;
  private seq = 0;
  private msgIds = 0;
  private requestIds = 0;

  constructor(options: KernelOptions = {}) {
    this.time = options.startTime ?? SIMULATION_EPOCH;
    this.random = new RandomStreams(String(options.seed ?? 1));
    this.netRng = this.random.get("network");
    this.network = { ...DEFAULT_NETWORK, ...options.network };
    this.trace = new Trace<E | KernelTraceEvent>(() => this.time);
  }

  /** True virtual time. */
  now(): Millis {
    return this.time;
  }

  /** Pending events (timers and messages in flight). */
  get pendingEvents(): number {
    return this.queue.size;
  }

  // ---- scheduling -------------------------------------------------------------------------

  /** Runs `fn` after `delayMs` of true time. */
  schedule(delayMs: Millis, fn: () => void): TimerHandle {
    const event = new TimerEvent(this.time + Math.max(0, delayMs), this.seq++, fn, this.queue);
    this.queue.push(event);
    return event;
  }

  /** Runs one event; false if none is left. */
  step(): boolean {
    const event = this.queue.pop();
    if (event === undefined) return false;
    this.time = event.time;
    event.fire();
    return true;
  }

  /**
   * Runs events until `done()` holds (checked before every event) or virtual time would pass
   * `deadline`. Returns whether `done()` held. Time stays at the last event run.
   */
  runUntil(done: () => boolean, deadline: Millis = Infinity): boolean {
    const queue = this.queue;
    for (;;) {
      if (done()) return true;
      const next = queue.peek();
      if (next === undefined || next.time > deadline) return false;
      queue.pop();
      this.time = next.time;
      next.fire();
    }
  }

  /** Runs the simulation for `ms` of virtual time. */
  advance(ms: Millis): void {
    const end = this.time + ms;
    this.runUntil(() => false, end);
    this.time = end;
  }

  // ---- nodes --------------------------------------------------------------------------------

  addNode(name: string, factory: ProcessFactory<E>): void {
    if (this.nodes.has(name)) throw new Error(`node ${name} already exists`);
    const node = new SimNode<E>(name, factory, this.trace.intern(name));
    this.nodes.set(name, node);
    this.startProcess(node);
  }

  nodeNames(): string[] {
    return [...this.nodes.keys()];
  }

  /** The context of a node's current incarnation (for endpoints driven from outside, like clients). */
  contextOf(name: string): NodeContext<E> {
    return this.getNode(name).context;
  }

  isUp(name: string): boolean {
    return this.getNode(name).up;
  }

  incarnationOf(name: string): number {
    return this.getNode(name).incarnation;
  }

  /** The node's own clock reading. */
  localNow(name: string): Millis {
    return this.localTime(this.getNode(name));
  }

  /**
   * Sets a node's clock: from now on it reads true time + `offsetMs`, plus `driftPpm` parts per
   * million of the true time elapsed since this call.
   */
  setClock(name: string, offsetMs: number, driftPpm = 0): void {
    const node = this.getNode(name);
    node.offsetMs = offsetMs;
    node.driftPpm = driftPpm;
    node.clockSetAt = this.time;
    this.trace.record({ type: "clock.set", node: name, offsetMs, driftPpm });
  }

  /** Volatile state is lost: the process, its timers, its pending requests and messages in flight to it. */
  crash(name: string): void {
    const node = this.getNode(name);
    if (!node.up) return;
    node.up = false;
    node.process = undefined;
    for (const p of node.pending.values()) p.timer.cancel();
    node.pending.clear();
    node.linkTail = [];
    node.incarnation++;
    this.trace.record({ type: "node.crash", node: name });
    // Peers waiting for a reply from this node see their connection reset.
    for (const peer of this.nodes.values())
      for (const [id, p] of peer.pending)
        if (p.to === name) {
          peer.pending.delete(id);
          p.timer.cancel();
          const inc = peer.incarnation;
          this.schedule(sampleLatency(this.network.latency, this.netRng), () => {
            if (peer.up && peer.incarnation === inc)
              p.future.reject(new NetworkError("HostUnreachable", name, `Connection reset by ${name}`));
          });
        }
  }

  /** Starts a crashed node again: its factory (recovery hook) runs with its durable state. */
  restart(name: string): void {
    const node = this.getNode(name);
    if (node.up) return;
    node.up = true;
    this.trace.record({ type: "node.restart", node: name, incarnation: node.incarnation });
    this.startProcess(node);
  }

  // ---- network ------------------------------------------------------------------------------

  /** No message crosses between groups a and b (only a → b when `oneWay`). */
  partition(a: readonly string[], b: readonly string[], oneWay = false): void {
    this.partitions.add(a, b, oneWay);
    this.trace.record({ type: "net.partition", node: "kernel", a: [...a], b: [...b], oneWay });
  }

  /** Records a free-text note (a scenario's narration) on `node`. */
  note(text: string, node = "scenario"): void {
    this.trace.record({ type: "note", node, text });
  }

  /** Removes every partition. */
  heal(): void {
    this.partitions.clear();
    this.trace.record({ type: "net.heal", node: "kernel" });
  }

  isPartitioned(from: string, to: string): boolean {
    return this.partitions.blocked(from, to);
  }

  configureNetwork(config: Partial<NetworkConfig>): void {
    this.network = { ...this.network, ...config };
    this.trace.record({ type: "net.configure", node: "kernel", config: { ...config } });
  }

  get networkConfig(): NetworkConfig {
    return this.network;
  }

  // ---- internals ----------------------------------------------------------------------------

  private lastLabel = "";
  private lastLabelId = -1;

  /** Interned label id, with a one-entry cache: consecutive messages usually share a label. */
  private labelId(label: string): number {
    if (label !== this.lastLabel || this.lastLabelId < 0) {
      this.lastLabel = label;
      this.lastLabelId = this.trace.intern(label);
    }
    return this.lastLabelId;
  }

  private getNode(name: string): SimNode<E> {
    const node = this.nodes.get(name);
    if (node === undefined) throw new Error(`unknown node ${name}`);
    return node;
  }

  private localTime(node: SimNode<E>): Millis {
    if (node.offsetMs === 0 && node.driftPpm === 0) return this.time;
    return this.time + node.offsetMs + ((this.time - node.clockSetAt) * node.driftPpm) / 1e6;
  }

  private startProcess(node: SimNode<E>): void {
    const incarnation = node.incarnation;
    const alive = (): boolean => node.up && node.incarnation === incarnation;
    node.failpoints = new FailPointRegistry(() => this.random.get(`${node.name}/failpoints`).next());
    const ctx: NodeContext<E> = {
      name: node.name,
      incarnation,
      now: () => this.localTime(node),
      send: (to, body, label = "msg") => {
        if (alive()) this.transmit(node, to, { k: "msg", body }, label);
      },
      request: (to, body, options = {}) => this.request(node, alive, to, body, options),
      setTimer: (delayMs, fn, label) => {
        const trueDelay = node.driftPpm === 0 ? delayMs : delayMs / (1 + node.driftPpm / 1e6);
        return this.schedule(trueDelay, () => {
          if (!alive()) return;
          if (label !== undefined) this.trace.record({ type: "timer.fire", node: node.name, label });
          fn();
        });
      },
      random: (purpose) => this.random.get(`${node.name}/${purpose}`),
      failpoints: node.failpoints,
      record: (event) => {
        if (alive()) this.trace.recordOn(node.name, event);
      },
    };
    node.context = ctx;
    node.process = node.factory(ctx);
  }

  private request(
    node: SimNode<E>,
    alive: () => boolean,
    to: string,
    body: unknown,
    options: RequestOptions,
  ): Future<unknown> {
    const future = new Future<unknown>();
    if (!alive()) return future; // a dead incarnation's requests never complete
    const id = ++this.requestIds;
    const label = options.label ?? "request";
    const target = this.nodes.get(to);
    if (target === undefined || !target.up) {
      // Connection refused: the caller learns after one network hop.
      this.schedule(sampleLatency(this.network.latency, this.netRng), () => {
        if (alive()) future.reject(new NetworkError("HostUnreachable", to, `Connection refused: ${to} is down`));
      });
      return future;
    }
    const timeout = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const timer = this.schedule(timeout, () => {
      if (!alive() || !node.pending.delete(id)) return;
      future.reject(new NetworkError("NetworkTimeout", to, `Request to ${to} timed out after ${timeout} ms`));
    });
    node.pending.set(id, { future, to, timer });
    this.transmit(node, to, { k: "req", id, body }, label, options.tracePayload ?? body);
    return future;
  }

  /** Per request label id: the reply's label (`<label>:reply`) and its id, made once. */
  private readonly replyLabels: ({ readonly label: string; readonly id: number } | undefined)[] = [];

  private replyLabelOf(labelId: number, label: string): { readonly label: string; readonly id: number } {
    let r = this.replyLabels[labelId];
    if (r === undefined) {
      const reply = `${label}:reply`;
      this.replyLabels[labelId] = r = { label: reply, id: this.trace.intern(reply) };
    }
    return r;
  }

  /** Puts a message on the wire: partition and drop checks, latency, duplication, reordering. */
  private transmit(
    from: SimNode<E>,
    to: string,
    envelope: Envelope,
    label: string,
    tracePayload?: unknown,
    knownLabelId?: number,
  ): void {
    const msgId = ++this.msgIds;
    const target = this.nodes.get(to);
    const labelId = knownLabelId ?? this.labelId(label);
    const toId = target?.traceId ?? this.trace.intern(to);
    this.trace.recordMessage(
      0,
      from.traceId,
      toId,
      msgId,
      labelId,
      0,
      envelope.k === "res" ? undefined : (tracePayload ?? envelope.body),
    );
    if (this.partitions.blocked(from.name, to)) return this.drop(from.name, to, msgId, label, "partition");
    const net = this.network;
    if (net.dropRate > 0 && this.netRng.chance(net.dropRate)) return this.drop(from.name, to, msgId, label, "random");
    if (target === undefined || !target.up) return this.drop(from.name, to, msgId, label, "down");
    let at = this.time + sampleLatency(net.latency, this.netRng);
    if (net.reorderRate > 0 && this.netRng.chance(net.reorderRate)) at += net.reorderDelayMs;
    else {
      const tail = from.linkTail[target.traceId] ?? 0;
      if (at < tail) at = tail;
      from.linkTail[target.traceId] = at;
    }
    const delivery = new Delivery(this, from, target, envelope, msgId, label, labelId, this.time, at, this.seq++);
    this.queue.push(delivery);
    if (net.duplicateRate > 0 && this.netRng.chance(net.duplicateRate)) {
      this.trace.record({ type: "net.duplicate", node: from.name, to, msgId });
      const again = at + sampleLatency(net.latency, this.netRng);
      this.queue.push(new Delivery(this, from, target, envelope, msgId, label, labelId, this.time, again, this.seq++));
    }
  }

  private drop(
    from: string,
    to: string,
    msgId: number,
    label: string,
    reason: "partition" | "random" | "down" | "crashed",
  ): void {
    this.trace.record({ type: "net.drop", node: from, to, msgId, label, reason });
  }

  /** @internal Called by a Delivery when its time comes. */
  deliver(d: Delivery<E>): void {
    const { target, envelope, msgId, label } = d;
    const from = d.source.name;
    if (!target.up || target.incarnation !== d.incarnation)
      return this.drop(from, target.name, msgId, label, "crashed");
    if (this.partitions.blocked(from, target.name)) return this.drop(from, target.name, msgId, label, "partition");
    this.trace.recordMessage(1, target.traceId, d.source.traceId, msgId, d.labelId, d.sentAt, undefined);
    const process = target.process;
    if (process === undefined) return;
    switch (envelope.k) {
      case "msg":
        process.onMessage?.(from, envelope.body);
        return;
      case "res": {
        const pending = target.pending.get(envelope.id);
        if (pending === undefined) return; // duplicate or late reply
        target.pending.delete(envelope.id);
        pending.timer.cancel();
        if (envelope.closed === true)
          pending.future.reject(new NetworkError("HostUnreachable", from, `Connection closed by peer ${from}`));
        else pending.future.resolve(envelope.body);
        return;
      }
      case "req": {
        let replied = false;
        const sender = this.nodes.get(from);
        process.onRequest(from, envelope.body, (body) => {
          if (replied || !target.up || target.incarnation !== d.incarnation || sender === undefined) return;
          replied = true;
          const closed = body === CLOSE_CONNECTION;
          const replyLabel = this.replyLabelOf(d.labelId, label);
          this.transmit(
            target,
            from,
            { k: "res", id: envelope.id, body: closed ? undefined : body, closed },
            replyLabel.label,
            undefined,
            replyLabel.id,
          );
        });
        return;
      }
    }
  }
}
