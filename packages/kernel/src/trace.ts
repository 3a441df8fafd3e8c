import { createHash } from "node:crypto";
import { EventEmitter } from "eventemitter3";

/** Fields every trace event has: when, in which order, on which node. */
export interface TraceBase {
  /** Virtual (true) time in ms since the Unix epoch. */
  readonly time: number;
  /** Position in the trace: strictly increasing. */
  readonly seq: number;
  /** The node (or client) the event happened on. */
  readonly node: string;
  readonly type: string;
}

/** Events the kernel itself records: messages, timers, faults, node lifecycle. */
export type KernelTraceEvent =
  | (TraceBase & { type: "net.send"; to: string; msgId: number; label: string; payload?: unknown })
  | (TraceBase & { type: "net.deliver"; from: string; msgId: number; label: string; sentAt: number })
  | (TraceBase & {
      type: "net.drop";
      to: string;
      msgId: number;
      label: string;
      reason: "partition" | "random" | "down" | "crashed";
    })
  | (TraceBase & { type: "net.duplicate"; to: string; msgId: number })
  | (TraceBase & { type: "net.partition"; a: string[]; b: string[]; oneWay: boolean })
  | (TraceBase & { type: "net.heal" })
  | (TraceBase & { type: "net.configure"; config: Record<string, unknown> })
  | (TraceBase & { type: "node.crash" })
  | (TraceBase & { type: "node.restart"; incarnation: number })
  | (TraceBase & { type: "clock.set"; offsetMs: number; driftPpm: number })
  | (TraceBase & { type: "timer.fire"; label: string })
  | (TraceBase & { type: "failpoint.set"; name: string; mode: unknown; data?: unknown })
  | (TraceBase & { type: "note"; text: string });

/** What a caller passes to `record`: an event without its time and seq. */
export type TraceInit<E extends TraceBase> = E extends TraceBase ? Omit<E, "time" | "seq"> : never;

/** 4096 message events per block: a short run (a property case) allocates ~170 KB, not 2.7 MB. */
const CHUNK_BITS = 12;
const CHUNK = 1 << CHUNK_BITS;

/** One fixed-size block of message-event columns. */
class MessageChunk {
  readonly kind = new Uint8Array(CHUNK); // 0 = net.send, 1 = net.deliver
  readonly time = new Float64Array(CHUNK);
  readonly sentAt = new Float64Array(CHUNK);
  readonly msgId = new Uint32Array(CHUNK);
  readonly node = new Uint32Array(CHUNK);
  readonly peer = new Uint32Array(CHUNK);
  readonly label = new Uint32Array(CHUNK);
  readonly payload = new Array<unknown>(CHUNK);
}

/** Message events (the bulk of any trace) in typed-array columns, chunked so nothing is copied. */
class MessageColumns {
  private readonly chunks: MessageChunk[] = [];
  private current: MessageChunk | undefined;
  private length = 0;

  add(
    kind: number,
    time: number,
    node: number,
    peer: number,
    msgId: number,
    label: number,
    sentAt: number,
    payload: unknown,
  ): number {
    const i = this.length++;
    const j = i & (CHUNK - 1);
    let c = this.current;
    if (j === 0 || c === undefined) this.chunks.push((c = this.current = new MessageChunk()));
    c.kind[j] = kind;
    c.time[j] = time;
    c.node[j] = node;
    c.peer[j] = peer;
    c.msgId[j] = msgId;
    c.label[j] = label;
    c.sentAt[j] = sentAt;
    if (payload !== undefined) c.payload[j] = payload;
    return i;
  }

  /** The chunk and offset of entry i. */
  at(i: number): [MessageChunk, number] {
    return [this.chunks[i >>> CHUNK_BITS], i & (CHUNK - 1)];
  }
}

/**
 * The structured trace of a run: every event in order, live listeners (an eventemitter3 emitter,
 * `"*"` for all events) and a hash that is equal for equal runs on any machine.
 *
 * Message events (`net.send`, `net.deliver`) are stored in typed-array columns and turned into
 * objects only when read: a long run has millions of them, and retaining one object each would
 * make the garbage collector the simulation's bottleneck.
 */
export class Trace<E extends TraceBase = KernelTraceEvent> {
  /** Events in order: an object, or (for a compact message event) its column index. */
  private readonly entries: (E | number)[] = [];
  private materialized = 0;
  private readonly columns = new MessageColumns();
  private readonly strings: string[] = [];
  private readonly stringIds = new Map<string, number>();
  private readonly emitter = new EventEmitter();
  private listening = false;

  constructor(private readonly clock: () => number) {}

  /** Appends an event, stamping it with the current virtual time and the next sequence number. */
  record(init: TraceInit<E>): E {
    const event = { time: this.clock(), seq: this.entries.length, ...init } as unknown as E;
    this.entries.push(event);
    if (this.listening) this.emit(event);
    return event;
  }

  /**
   * `record` for an event of `node` whose `init` lacks the node: one object instead of two (the
   * fields come out in the same order as `record({...init, node})`).
   */
  recordOn(node: string, init: Omit<TraceInit<E>, "node">): E {
    const event = { time: this.clock(), seq: this.entries.length, ...init, node } as unknown as E;
    this.entries.push(event);
    if (this.listening) this.emit(event);
    return event;
  }

  /**
   * Appends a `net.send` (kind 0) or `net.deliver` (kind 1) event in compact form; node, peer and
   * label are ids from `intern`.
   */
  recordMessage(
    kind: 0 | 1,
    node: number,
    peer: number,
    msgId: number,
    label: number,
    sentAt: number,
    payload: unknown,
  ): void {
    const i = this.columns.add(kind, this.clock(), node, peer, msgId, label, sentAt, payload);
    const seq = this.entries.length;
    this.entries.push(i);
    if (this.listening) this.emit(this.materialize(seq));
  }

  get length(): number {
    return this.entries.length;
  }

  /**
   * Every event so far, in order: a snapshot (a copy), so events recorded later neither appear in
   * it nor leave compact entries in it.
   */
  all(): readonly E[] {
    return this.materializeAll().slice();
  }

  on(type: string, listener: (event: E) => void): void {
    this.emitter.on(type, listener);
    this.listening = true;
  }

  off(type: string, listener: (event: E) => void): void {
    this.emitter.off(type, listener);
    this.listening = this.emitter.eventNames().length > 0;
  }

  /**
   * SHA-256 over the canonical JSON of every event. JSON field order is insertion order, which the
   * run itself determines, so equal runs give equal hashes across processes and machines.
   */
  hash(): string {
    const h = createHash("sha256");
    for (const e of this.materializeAll()) h.update(JSON.stringify(e, canonicalReplacer) + "\n");
    return h.digest("hex");
  }

  /** Turns every compact entry into its event object; returns the (internal) entry list. */
  private materializeAll(): E[] {
    for (let seq = this.materialized; seq < this.entries.length; seq++) this.materialize(seq);
    this.materialized = this.entries.length;
    return this.entries as E[];
  }

  private emit(event: E): void {
    this.emitter.emit(event.type, event);
    this.emitter.emit("*", event);
  }

  /** A small integer standing for `s` in compact events. */
  intern(s: string): number {
    let id = this.stringIds.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(s);
      this.stringIds.set(s, id);
    }
    return id;
  }

  private materialize(seq: number): E {
    const entry = this.entries[seq];
    if (typeof entry !== "number") return entry;
    const [c, j] = this.columns.at(entry);
    const node = this.strings[c.node[j]];
    const peer = this.strings[c.peer[j]];
    const label = this.strings[c.label[j]];
    const time = c.time[j];
    const event = (c.kind[j] === 0
      ? { time, seq, node, type: "net.send", to: peer, msgId: c.msgId[j], label, payload: c.payload[j] }
      : {
          time,
          seq,
          node,
          type: "net.deliver",
          from: peer,
          msgId: c.msgId[j],
          label,
          sentAt: c.sentAt[j],
        }) as unknown as E;
    this.entries[seq] = event;
    return event;
  }
}

function canonicalReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (value instanceof Uint8Array) return Buffer.from(value).toString("hex");
  return value;
}
