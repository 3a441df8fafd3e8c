/**
 * Builds small synthetic traces for the report's unit tests: events with the kernel's and the
 * server's shapes, at chosen virtual times (ms after the simulation epoch).
 */
import type { EventLike } from "../src/events.js";

export const EPOCH = Date.UTC(2026, 0, 1);
export const MIN = 60_000;

export type Ev = EventLike & Record<string, unknown>;

export class TraceBuilder {
  readonly events: Ev[] = [];
  private t = 0;
  private msgIds = 0;

  /** Moves the clock to `ms` after the epoch. */
  at(ms: number): this {
    this.t = ms;
    return this;
  }

  get now(): number {
    return this.t;
  }

  add(node: string, type: string, fields: Record<string, unknown> = {}): Ev {
    const e = { time: EPOCH + this.t, seq: this.events.length, node, type, ...fields } as Ev;
    this.events.push(e);
    return e;
  }

  send(from: string, to: string, label: string, payload?: unknown): { msgId: number; event: Ev } {
    const msgId = ++this.msgIds;
    return { msgId, event: this.add(from, "net.send", { to, msgId, label, payload }) };
  }

  deliver(from: string, to: string, msgId: number, label: string, sentAt: number): Ev {
    return this.add(to, "net.deliver", { from, msgId, label, sentAt: EPOCH + sentAt });
  }

  /**
   * A request and its reply: send now, delivery 1 ms later, the server's `cmd.reply` and the reply
   * message right after, its delivery 1 ms after that. Returns the events.
   */
  request(
    from: string,
    to: string,
    db: string,
    command: Record<string, unknown>,
    reply: { ok?: boolean; codeName?: string } = {},
  ): { send: Ev; deliver: Ev; reply: Ev; replySend: Ev; replyDeliver: Ev } {
    const name = Object.keys(command)[0];
    const sentAt = this.t;
    const { msgId, event: send } = this.send(from, to, name, { db, command });
    this.t += 1;
    const deliver = this.deliver(from, to, msgId, name, sentAt);
    const ok = reply.ok ?? true;
    const r = this.add(to, "cmd.reply", {
      opId: msgId,
      command: name,
      db,
      client: from,
      ok,
      ...(ok ? {} : { codeName: reply.codeName ?? "InternalError", errmsg: "failed" }),
    });
    const replyAt = this.t;
    const { msgId: replyId, event: replySend } = this.send(to, from, `${name}:reply`);
    this.t += 1;
    const replyDeliver = this.deliver(to, from, replyId, `${name}:reply`, replyAt);
    return { send, deliver, reply: r, replySend, replyDeliver };
  }

  /** A node's refresh that upserts `ids` into config.system.sessions on `shard` (and deletes `ended`). */
  refresh(
    node: string,
    shard: string,
    ids: readonly string[],
    ended: readonly string[] = [],
  ): { start: Ev; end: Ev; upsert?: Ev } {
    const start = this.add(node, "refresh.start");
    let upsert: Ev | undefined;
    if (ids.length > 0)
      upsert = this.request(node, shard, "config", {
        update: "system.sessions",
        updates: ids.map((id) => ({ q: { _id: { id, uid: "e3b0" } }, u: [], upsert: true })),
      }).reply;
    if (ended.length > 0)
      this.request(node, shard, "config", {
        delete: "system.sessions",
        deletes: ended.map((id) => ({ q: { _id: { id, uid: "e3b0" } }, limit: 1 })),
      });
    const end = this.add(node, "refresh.end", {
      ok: true,
      refreshed: ids.length,
      ended: ended.length,
      failed: 0,
      cursorsClosed: 0,
    });
    return { start, end, ...(upsert === undefined ? {} : { upsert }) };
  }
}

export const S1 = "11111111-1111-4111-8111-111111111111";
export const S2 = "22222222-2222-4222-8222-222222222222";
