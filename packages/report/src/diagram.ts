/**
 * Builds the sequence diagram's model from an analysed trace: one lane per node and client, one row
 * per drawable event, one arrow per message delivery. Every event type the report knows gets a
 * glyph and a label in plain words; unknown types become a grey dot with their type, so newer
 * traces still draw.
 */
import { SIMULATION_EPOCH } from "./epoch.js";
import type { Analysis, MessageFact } from "./analysis.js";
import { count, lsidOf, num, shortId, str, type AnyEvent } from "./events.js";
import type { DiagramModel, Item, Lane, Msg } from "./diagram-core.js";

export const COLORS = Object.freeze({
  client: "#2b6cb0",
  internal: "#718096",
  sessions: "#23827e",
  session: "#2f855a",
  txn: "#7b4fc9",
  kill: "#c53030",
  fault: "#c53030",
  ok: "#2f855a",
  timer: "#8a94a3",
  note: "#5c4a00",
  warn: "#c05621",
  other: "#8a94a3",
} as const);

const TXN_COMMANDS = new Set([
  "prepareTransaction",
  "commitTransaction",
  "abortTransaction",
  "coordinateCommitTransaction",
]);
const KILLS = new Set(["killSessions", "killAllSessions", "killAllSessionsByPattern", "killCursors", "killOp"]);
const SESSION_COMMANDS = new Set(["startSession", "endSessions", "refreshSessions"]);

/** Role of a node, from its name. */
export function roleOf(name: string): string {
  if (name.startsWith("client")) return "client";
  if (name.startsWith("mongos")) return "router (mongos)";
  if (name.startsWith("shard")) return "shard primary";
  if (name.startsWith("config")) return "config server";
  return "";
}

function isSessionsCollectionOp(m: MessageFact): boolean {
  return m.db === "config" && m.doc !== undefined && Object.values(m.doc)[0] === "system.sessions";
}

function messageColor(m: MessageFact): string {
  const req = m.isReply ? (m.peer ?? m) : m;
  if (isSessionsCollectionOp(req)) return COLORS.sessions;
  if (TXN_COMMANDS.has(m.command) || req.doc?.autocommit === false) return COLORS.txn;
  if (KILLS.has(m.command)) return COLORS.kill;
  if (SESSION_COMMANDS.has(m.command)) return COLORS.session;
  const client = m.from.startsWith("client") || m.to.startsWith("client");
  return client ? COLORS.client : COLORS.internal;
}

function messageLabel(m: MessageFact): string {
  const req = m.isReply ? m.peer : m;
  let x = m.command;
  if (m.isReply) x += m.outcome === undefined ? " reply" : m.outcome.ok === false ? "" : " ✓";
  if (!m.isReply && req?.doc !== undefined) {
    if (m.command === "aggregate" && Array.isArray(req.doc.pipeline)) {
      const first: unknown = req.doc.pipeline[0];
      const stage = typeof first === "object" && first !== null ? Object.keys(first)[0] : undefined;
      if (stage !== undefined) x += ` ${stage}`;
    } else if (isSessionsCollectionOp(req)) {
      const list = req.doc.updates ?? req.doc.deletes;
      const n = Array.isArray(list) ? list.length : undefined;
      x += ` system.sessions${n === undefined ? "" : ` (${n})`}`;
    }
  }
  const lsid = m.lsid ?? req?.lsid;
  if (lsid !== undefined && !m.isReply) x += ` · ${shortId(lsid)}`;
  return x;
}

function sessionOf(e: AnyEvent): string {
  const id = lsidOf(e.id) ?? lsidOf(e.lsid);
  return id === undefined ? "?" : shortId(id);
}

function countsText(e: AnyEvent, fields: readonly [string, string][]): string {
  const parts: string[] = [];
  for (const [f, words] of fields) {
    const n = count(e, f);
    if (n !== undefined && n > 0) parts.push(`${n} ${words}`);
  }
  return parts.join(", ");
}

function short(v: unknown, max = 60): string {
  let s: string;
  try {
    s = typeof v === "string" ? v : JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? String(x) : x));
  } catch {
    s = String(v);
  }
  s ??= String(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** Glyph, colour, group and words for a non-message event; undefined to leave it out. */
function markOf(e: AnyEvent, a: Analysis): Pick<Item, "k" | "g" | "x" | "c" | "sh"> | undefined {
  switch (e.type) {
    case "cmd.reply":
    case "net.duplicate":
      return undefined;
    case "timer.fire":
      return { k: "mark", g: "timer", x: str(e, "label") ?? "timer", c: COLORS.timer, sh: "clock" };
    case "refresh.start": {
      const r = a.refreshes.find((x) => x.start === e);
      const n = r?.swapped.length ?? 0;
      const ended = r?.ending.length ?? 0;
      const what = [`${n} cached session${n === 1 ? "" : "s"}`, ...(ended > 0 ? [`${ended} ended`] : [])].join(", ");
      return { k: "rstart", g: "session", x: `refresh starts: ${what}`, c: COLORS.sessions, sh: "dot" };
    }
    case "refresh.end": {
      if (e.ok === false)
        return {
          k: "rend",
          g: "session",
          x: `refresh failed${str(e, "codeName") === undefined ? "" : `: ${str(e, "codeName")}`} (sessions kept)`,
          c: COLORS.fault,
          sh: "cross",
        };
      const what = countsText(e, [
        ["refreshed", "upserted"],
        ["ended", "ended"],
        ["failed", "failed"],
        ["cursorsClosed", "cursors closed"],
      ]);
      return {
        k: "rend",
        g: "session",
        x: `refresh done${what === "" ? "" : `: ${what}`}`,
        c: COLORS.sessions,
        sh: "dot",
      };
    }
    case "session.start":
      return { k: "mark", g: "session", x: `new session ${sessionOf(e)} in cache`, c: COLORS.session, sh: "dot" };
    case "session.vivify":
      return { k: "mark", g: "session", x: `session ${sessionOf(e)} cached`, c: COLORS.session, sh: "ring" };
    case "session.end":
      return { k: "mark", g: "session", x: `end of ${sessionOf(e)} queued`, c: COLORS.warn, sh: "ring" };
    case "ttl.expire": {
      const ids = Array.isArray(e.ids) ? (e.ids as unknown[]) : [];
      const names = ids
        .map((v) => lsidOf(v))
        .filter((v): v is string => v !== undefined)
        .map(shortId);
      const what = str(e, "ns") === "config.system.sessions" || names.length > 0 ? "record" : "document";
      return {
        k: "mark",
        g: "session",
        x: `TTL expired ${ids.length} ${what}${ids.length === 1 ? "" : "s"}${names.length > 0 ? ` (${names.slice(0, 3).join(", ")}${names.length > 3 ? ", …" : ""})` : ""}`,
        c: COLORS.warn,
        sh: "hourglass",
      };
    }
    case "cursor.open":
      return {
        k: "mark",
        g: "session",
        x: `cursor ${str(e, "cursorId") ?? "?"} opened`,
        c: COLORS.client,
        sh: "square",
      };
    case "cursor.close": {
      const reason = str(e, "reason") ?? "";
      const killed = reason !== "exhausted" && reason !== "killCursors";
      return {
        k: "mark",
        g: "session",
        x: `cursor ${str(e, "cursorId") ?? "?"} ${killed ? "killed" : "closed"} (${reason})`,
        c: killed ? COLORS.kill : COLORS.other,
        sh: "squarex",
      };
    }
    case "txn.state":
      return {
        k: "mark",
        g: "session",
        x: `txn ${sessionOf(e)}:${String(num(e, "txnNumber") ?? str(e, "txnNumber") ?? "?")} → ${str(e, "to") ?? "?"}`,
        c: COLORS.txn,
        sh: "diamond",
      };
    case "coord.step":
      return {
        k: "mark",
        g: "session",
        x: `coordinator: ${str(e, "step") ?? "?"}${str(e, "action") === undefined || str(e, "action") === str(e, "step") ? "" : ` (${str(e, "action")})`}`,
        c: COLORS.txn,
        sh: "diamondo",
      };
    case "coord.decision":
      return {
        k: "mark",
        g: "session",
        x: `decision: ${short(e.decision ?? e.outcome ?? "?", 30)}`,
        c: COLORS.txn,
        sh: "star",
      };
    case "coord.create":
      return {
        k: "mark",
        g: "session",
        x:
          e.recovered === true
            ? `coordinator ${sessionOf(e)} recovered from its document`
            : `coordinator for ${sessionOf(e)} created`,
        c: COLORS.txn,
        sh: "diamondo",
      };
    case "coord.failpoint":
      return {
        k: "mark",
        g: "fault",
        x: `coordinator held by failpoint ${str(e, "failpoint") ?? "?"}`,
        c: COLORS.warn,
        sh: "flag",
      };
    case "coord.end":
      return {
        k: "mark",
        g: "session",
        x: e.ok === false ? `coordinator ended: ${str(e, "codeName") ?? "error"}` : "coordinator done",
        c: COLORS.txn,
        sh: "diamondo",
      };
    case "txn.router": {
      const shards = Array.isArray(e.shards) ? (e.shards as unknown[]).join(", ") : "";
      const how = str(e, "commitType");
      return {
        k: "mark",
        g: "session",
        x: `router ${str(e, "action") ?? "?"}${how === undefined ? "" : ` (${how})`}${shards === "" ? "" : ` → ${shards}`}`,
        c: COLORS.txn,
        sh: "diamond",
      };
    }
    case "kill.remote": {
      const hosts = Array.isArray(e.hosts) ? e.hosts.length : 0;
      const failed = Array.isArray(e.failedHosts) ? e.failedHosts.length : 0;
      const what = countsText(e, [
        ["interruptedOps", "ops interrupted"],
        ["closedCursors", "cursors closed"],
      ]);
      return {
        k: "mark",
        g: "session",
        x: `kill: sent to ${hosts} shard host${hosts === 1 ? "" : "s"}${failed > 0 ? ` (${failed} failed)` : ""}${what === "" ? "" : `, ${what}`}`,
        c: COLORS.kill,
        sh: "slash",
      };
    }
    case "kill.local": {
      const what = countsText(e, [
        ["abortedTransactions", "txn aborted"],
        ["skippedPrepared", "prepared txn skipped"],
        ["interruptedOps", "ops interrupted"],
        ["closedCursors", "cursors closed"],
      ]);
      return {
        k: "mark",
        g: "session",
        x: `kill${what === "" ? ": nothing matched" : `: ${what}`}`,
        c: COLORS.kill,
        sh: "slash",
      };
    }
    case "op.interrupt":
      return {
        k: "mark",
        g: "session",
        x: `${str(e, "command") ?? "op"} interrupted (${str(e, "codeName") ?? "?"})`,
        c: COLORS.warn,
        sh: "slash",
      };
    case "node.crash":
      return { k: "mark", g: "fault", x: "crashed", c: COLORS.fault, sh: "cross" };
    case "node.restart":
      return { k: "mark", g: "fault", x: "restarted", c: COLORS.ok, sh: "restart" };
    case "node.recover":
      return { k: "mark", g: "fault", x: `recovered ${short(e.detail, 40)}`, c: COLORS.ok, sh: "restart" };
    case "repl.state": {
      // replSetStepDown and the step-up after it: the member stops or starts taking writes.
      const up = e.to === "PRIMARY";
      return {
        k: "mark",
        g: "fault",
        x: `${str(e, "from") ?? "?"} → ${str(e, "to") ?? "?"} (${str(e, "reason") ?? "?"})`,
        c: up ? COLORS.ok : COLORS.warn,
        sh: up ? "restart" : "flag",
      };
    }
    case "node.bug":
      return {
        k: "mark",
        g: "fault",
        x: `INTERNAL ERROR in ${str(e, "command") ?? "?"}`,
        c: COLORS.fault,
        sh: "cross",
      };
    case "net.partition": {
      const as = Array.isArray(e.a) ? (e.a as unknown[]).join(", ") : "?";
      const bs = Array.isArray(e.b) ? (e.b as unknown[]).join(", ") : "?";
      return { k: "line", g: "fault", x: `✂ partition: ${as} ${e.oneWay === true ? "→" : "↮"} ${bs}`, c: COLORS.fault };
    }
    case "net.heal":
      return { k: "line", g: "fault", x: "network healed", c: COLORS.ok };
    case "net.configure":
      return { k: "line", g: "fault", x: `network: ${short(e.config, 90)}`, c: COLORS.other };
    case "clock.set":
      return {
        k: "mark",
        g: "fault",
        x: `clock offset ${String(e.offsetMs)} ms, drift ${String(e.driftPpm)} ppm`,
        c: COLORS.warn,
        sh: "flag",
      };
    case "failpoint.set":
      return {
        k: "mark",
        g: "fault",
        x: `failpoint ${str(e, "name") ?? "?"}: ${short(e.mode, 30)}`,
        c: COLORS.warn,
        sh: "flag",
      };
    case "param.set":
      return {
        k: "mark",
        g: "other",
        x: `${str(e, "name") ?? "?"} = ${short(e.value, 24)}`,
        c: COLORS.other,
        sh: "flag",
      };
    case "sessionsCollection.create":
      return {
        k: "mark",
        g: "session",
        x: `created ${str(e, "ns") ?? "config.system.sessions"}`,
        c: COLORS.sessions,
        sh: "star",
      };
    case "reap.end":
      return {
        k: "mark",
        g: "timer",
        x:
          e.ok === false
            ? `reap failed (${str(e, "codeName") ?? "?"})`
            : `reap: ${String(num(e, "reaped") ?? 0)} reaped` +
              ((num(e, "reapedFromMemory") ?? 0) > 0 ? `, ${String(num(e, "reapedFromMemory"))} from memory` : ""),
        c: COLORS.timer,
        sh: "dot",
      };
    case "note":
      return { k: "note", g: "note", x: str(e, "text") ?? "", c: COLORS.note };
    default:
      return { k: "mark", g: "other", x: e.type, c: COLORS.other, sh: "dot" };
  }
}

/** The diagram of an analysed trace, and the message each arrow shows. */
export function buildDiagram(a: Analysis): { readonly model: DiagramModel; readonly facts: readonly MessageFact[] } {
  const lanes: Lane[] = a.nodes.map((name) => ({ name, role: roleOf(name) }));
  const laneOf = new Map(a.nodes.map((n, i) => [n, i]));
  const items: Item[] = [];
  const msgs: Msg[] = [];
  const facts: MessageFact[] = [];
  const msgIndex = new Map<MessageFact, number>();
  const itemOfSeq = new Map<number, number>();
  const rstart = new Map<string, number>();
  const downFrom = new Map<number, number>();
  const down: [number, number][][] = lanes.map(() => []);
  interface MutableMsg {
    from: number;
    to: number;
    x: string;
    c: string;
    reply: boolean;
    si?: number;
    di: number[];
    pi?: number;
    err?: string;
    g: string;
  }
  const msgOf = (m: MessageFact): number => {
    let i = msgIndex.get(m);
    if (i === undefined) {
      i = msgs.length;
      const outcome = m.isReply ? m.outcome : undefined;
      const mm: MutableMsg = {
        from: laneOf.get(m.from) ?? 0,
        to: laneOf.get(m.to) ?? 0,
        x: messageLabel(m),
        c: messageColor(m),
        reply: m.isReply,
        di: [],
        g: m.from.startsWith("client") || m.to.startsWith("client") ? "client" : "internal",
        ...(outcome !== undefined && outcome.ok === false ? { err: str(outcome, "codeName") ?? "error" } : {}),
      };
      msgs.push(mm);
      facts.push(m);
      msgIndex.set(m, i);
    }
    return i;
  };
  for (const e of a.events) {
    if (e.type === "net.send" || e.type === "net.deliver" || e.type === "net.drop") {
      const m = a.messageOfSeq.get(e.seq);
      if (m === undefined) continue;
      const mi = msgOf(m);
      const mm = msgs[mi] as MutableMsg;
      const k = e.type === "net.send" ? "send" : e.type === "net.deliver" ? "deliver" : "drop";
      const lane = laneOf.get(k === "deliver" ? m.to : m.from) ?? 0;
      const idx = items.length;
      items.push({ s: e.seq, t: e.time, l: lane, k, g: mm.g, x: "", c: mm.c, m: mi });
      itemOfSeq.set(e.seq, idx);
      if (k === "send") mm.si = idx;
      else if (k === "deliver") mm.di.push(idx);
      else mm.pi = idx;
      continue;
    }
    const mark = markOf(e, a);
    if (mark === undefined) continue;
    const full = mark.k === "note" || mark.k === "line";
    const lane = full ? -1 : laneOf.get(e.node);
    if (lane === undefined) continue;
    const idx = items.length;
    items.push({ s: e.seq, t: e.time, l: lane, ...mark });
    itemOfSeq.set(e.seq, idx);
    if (mark.k === "rstart") rstart.set(e.node, idx);
    if (mark.k === "rend") {
      const st = rstart.get(e.node);
      if (st !== undefined) items[st] = { ...items[st], e: idx };
      rstart.delete(e.node);
    }
    if (e.type === "node.crash") downFrom.set(lane, idx);
    if (e.type === "node.restart") {
      const from = downFrom.get(lane);
      if (from !== undefined) down[lane].push([from, idx]);
      downFrom.delete(lane);
    }
    if (e.type === "node.crash" && rstart.has(e.node)) {
      const st = rstart.get(e.node) ?? 0;
      items[st] = { ...items[st], e: idx };
      rstart.delete(e.node);
    }
  }
  for (const [lane, from] of downFrom) down[lane].push([from, -1]);
  return { model: { lanes, items, msgs, epoch: SIMULATION_EPOCH, down }, facts };
}

/** The diagram of an analysed trace. */
export function buildDiagramModel(a: Analysis): DiagramModel {
  return buildDiagram(a).model;
}

/** Map from trace seq to diagram item, with events that have no row (a `cmd.reply`) mapped to the row that shows them. */
export function itemIndexOfSeq(a: Analysis, model: DiagramModel): Map<number, number> {
  const map = new Map<number, number>();
  model.items.forEach((it, i) => map.set(it.s, i));
  for (const m of a.messages) {
    const reply = m.isReply ? m : m.peer;
    const outcome = m.outcome;
    const row = reply?.send === undefined ? undefined : map.get(reply.send.seq);
    if (outcome !== undefined && row !== undefined && !map.has(outcome.seq)) map.set(outcome.seq, row);
  }
  return map;
}
