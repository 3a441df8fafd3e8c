import type { Document, TraceEvent } from "sessionsim";
import { field, isAborted, lsidIdOf, normalizeTxnState, type RequestRecord, type TxnState } from "../trace-index.js";
import { keyOfRecord, numberOf, uuidHex } from "../util.js";
import { KILL_COMMANDS, killMatcher, killMatcherById } from "./kill-matcher.js";
import type { SafetyInvariant } from "./types.js";

/**
 * A `txn.state` event, normalised.
 *
 * @example
 * for (const e of cluster.trace()) {
 *   const t: TxnTransition | undefined = txnTransition(e);
 *   if (t?.to === "prepared") console.log(`${t.node} prepared ${t.lsidId}:${t.txnNumber}`);
 * }
 */
export interface TxnTransition {
  readonly event: TraceEvent;
  readonly node: string;
  readonly lsidId: string;
  readonly txnNumber: number;
  readonly from: TxnState | undefined;
  readonly to: TxnState;
}

/**
 * Reads a `txn.state` event ({lsid, txnNumber, from, to}); undefined for anything else.
 *
 * @example
 * const prepared = cluster.trace().map(txnTransition).filter((t) => t?.to === "prepared");
 */
export function txnTransition(e: TraceEvent): TxnTransition | undefined {
  if ((e.type as string) !== "txn.state") return undefined;
  const lsidId = lsidIdOf(field(e, "lsid"));
  const txnNumber = numberOf(field(e, "txnNumber"));
  const to = normalizeTxnState(field(e, "to"));
  if (lsidId === undefined || txnNumber === undefined || to === undefined) return undefined;
  return { event: e, node: e.node, lsidId, txnNumber, from: normalizeTxnState(field(e, "from")), to };
}

const txnKey = (node: string, lsidId: string, txnNumber: number): string => `${node}\u0000${lsidId}\u0000${txnNumber}`;

/** The session id a request's lsid names (32 hex), if any. */
function requestLsidId(r: RequestRecord): string | undefined {
  const l = r.body.command.lsid as { id?: unknown } | undefined;
  return l === undefined || l === null ? undefined : uuidHex(l.id);
}

/**
 * No node ever hit an internal error: every exception inside a node is a simulator bug.
 *
 * @example
 * checkTrace(cluster.trace(), invariantContext({}), [noNodeBug]); // [] when no node threw
 */
export const noNodeBug: SafetyInvariant = {
  kind: "safety",
  name: "no-node-bug",
  description: "No node throws: every failure inside a node becomes a MongoDB error reply (no node.bug events).",
  start: () => {
    const lastDelivery = new Map<string, TraceEvent & { type: "net.deliver" }>();
    return (e, index, report) => {
      if (e.type === "net.deliver" && !e.label.endsWith(":reply")) lastDelivery.set(`${e.node}\u0000${e.label}`, e);
      if (e.type !== "node.bug") return;
      const cause = lastDelivery.get(`${e.node}\u0000${e.command}`);
      const req = cause === undefined ? undefined : index.byMsgId.get(cause.msgId);
      report({
        message: `${e.node}: internal error in ${e.command}: ${e.error}`,
        time: e.time,
        node: e.node,
        events: [...(req === undefined ? [] : [req.sendEvent]), ...(cause === undefined ? [] : [cause]), e],
      });
    };
  },
};

/**
 * A prepared transaction leaves the prepared state only through `commitTransaction` or
 * `abortTransaction`: no kill command (nor anything else) aborts it.
 *
 * @example
 * checkTrace(cluster.trace(), ctx, [killNeverAbortsPrepared]);
 */
export const killNeverAbortsPrepared: SafetyInvariant = {
  kind: "safety",
  name: "kill-never-aborts-prepared",
  description:
    "A kill never aborts a prepared transaction: a prepared participant is aborted only by an abortTransaction for it (kill_sessions_local.cpp: killSessionsAbortUnpreparedTransactions).",
  start: () => {
    const preparedAt = new Map<string, TraceEvent>();
    /** Per node: abortTransaction deliveries (lsid id, txnNumber, seq) and kill deliveries. */
    const aborts = new Map<string, { lsidId: string; txnNumber: number; seq: number }[]>();
    const kills = new Map<string, TraceEvent[]>();
    return (e, index, report) => {
      if (e.type === "net.deliver" && !e.label.endsWith(":reply")) {
        const r = index.byMsgId.get(e.msgId);
        if (r === undefined) return;
        if (r.name === "abortTransaction") {
          const id = requestLsidId(r);
          if (id !== undefined && r.txnNumber !== undefined) {
            let list = aborts.get(e.node);
            if (list === undefined) aborts.set(e.node, (list = []));
            list.push({ lsidId: id, txnNumber: r.txnNumber, seq: e.seq });
          }
        } else if (KILL_COMMANDS.has(r.name)) {
          let list = kills.get(e.node);
          if (list === undefined) kills.set(e.node, (list = []));
          list.push(e);
          if (list.length > 50) list.shift();
        }
        return;
      }
      const t = txnTransition(e);
      if (t === undefined) return;
      const k = txnKey(t.node, t.lsidId, t.txnNumber);
      if (t.to === "prepared") {
        preparedAt.set(k, e);
        return;
      }
      const prep = preparedAt.get(k);
      if (!isAborted(t.to) || (t.from !== "prepared" && prep === undefined)) {
        preparedAt.delete(k);
        return;
      }
      preparedAt.delete(k);
      const since = prep?.seq ?? 0;
      const aborted = (aborts.get(t.node) ?? []).some(
        (a) => a.lsidId === t.lsidId && a.txnNumber === t.txnNumber && a.seq >= since,
      );
      if (aborted) return;
      const nearbyKills = (kills.get(t.node) ?? []).filter((k2) => k2.seq >= since);
      report({
        message:
          `prepared transaction ${t.lsidId}:${t.txnNumber} on ${t.node} went ${t.from ?? "prepared"} → ${t.to} without an abortTransaction` +
          (nearbyKills.length > 0
            ? ` (after ${nearbyKills.map((x) => (x.type === "net.deliver" ? x.label : x.type)).join(", ")})`
            : ""),
        time: e.time,
        node: t.node,
        events: [...(prep === undefined ? [] : [prep]), ...nearbyKills, e],
      });
    };
  },
};

/**
 * Cross-shard atomicity: no transaction commits on one participant and aborts after prepare on
 * another; and when the coordinator traces its decision, every participant's outcome matches it.
 *
 * @example
 * checkTrace(cluster.trace(), ctx, [crossShardAtomicity]);
 */
export const crossShardAtomicity: SafetyInvariant = {
  kind: "safety",
  name: "cross-shard-atomicity",
  description:
    "A distributed transaction commits everywhere or nowhere: never committed on one participant and aborted-after-prepare on another, and never against the coordinator's decision.",
  start: () => {
    interface Outcome {
      committed?: TraceEvent;
      aborted?: TraceEvent;
      decision?: TraceEvent;
      decided?: "commit" | "abort";
      reported?: boolean;
    }
    const outcomes = new Map<string, Outcome>();
    const get = (lsidId: string, txn: number): Outcome => {
      const k = `${lsidId}\u0000${txn}`;
      let o = outcomes.get(k);
      if (o === undefined) outcomes.set(k, (o = {}));
      return o;
    };
    return (e, _index, report) => {
      let o: Outcome | undefined;
      let label: string;
      if ((e.type as string).startsWith("coord.")) {
        const raw = field<unknown>(e, "decision");
        const d =
          typeof raw === "string"
            ? raw
            : typeof raw === "object" && raw !== null
              ? (raw as { decision?: unknown }).decision
              : undefined;
        const lsidId = lsidIdOf(field(e, "lsid"));
        const txn = numberOf(field(e, "txnNumber"));
        if (lsidId === undefined || txn === undefined || (d !== "commit" && d !== "abort")) return;
        o = get(lsidId, txn);
        if (o.decided !== undefined && o.decided !== d && !o.reported) {
          o.reported = true;
          report({
            message: `coordinator of ${lsidId}:${txn} decided both ${o.decided} and ${d}`,
            time: e.time,
            node: e.node,
            events: [o.decision!, e],
          });
        }
        o.decided ??= d;
        o.decision ??= e;
        label = `${lsidId}:${txn}`;
      } else {
        const t = txnTransition(e);
        if (t === undefined || (t.to !== "committed" && t.to !== "abortedWithPrepare")) return;
        if (_index.ambiguous(t.lsidId)) return;
        o = get(t.lsidId, t.txnNumber);
        if (t.to === "committed") o.committed ??= e;
        else o.aborted ??= e;
        label = `${t.lsidId}:${t.txnNumber}`;
      }
      if (o.reported) return;
      const evs = (...xs: (TraceEvent | undefined)[]): TraceEvent[] =>
        xs.filter((x): x is TraceEvent => x !== undefined).sort((a, b) => a.seq - b.seq);
      if (o.committed !== undefined && o.aborted !== undefined) {
        o.reported = true;
        report({
          message: `transaction ${label} committed on ${o.committed.node} but aborted after prepare on ${o.aborted.node}`,
          time: e.time,
          node: e.node,
          events: evs(o.decision, o.committed, o.aborted),
        });
      } else if (
        (o.decided === "commit" && o.aborted !== undefined) ||
        (o.decided === "abort" && o.committed !== undefined)
      ) {
        o.reported = true;
        const wrong = o.decided === "commit" ? o.aborted! : o.committed!;
        report({
          message: `transaction ${label}: the coordinator decided ${o.decided} but ${wrong.node} ${o.decided === "commit" ? "aborted after prepare" : "committed"}`,
          time: e.time,
          node: e.node,
          events: evs(o.decision, wrong),
        });
      }
    };
  },
};

/**
 * `txnNumber` never goes backwards on a session: within a node's incarnation every transaction or
 * retryable write it tracks has a txnNumber at least the last one; after a restart at least the last
 * durable one; after the reaper may have forgotten the session, anything goes.
 *
 * @example
 * checkTrace(cluster.trace(), ctx, [txnNumberMonotone]);
 */
export const txnNumberMonotone: SafetyInvariant = {
  kind: "safety",
  name: "txn-number-monotone",
  description:
    "txnNumber is monotone per session on every node (TransactionTooOld for older numbers), surviving restarts through config.transactions.",
  start: (ctx) => {
    const last = new Map<string, { n: number; e: TraceEvent; durable?: { n: number; e: TraceEvent }; time: number }>();
    const reapAfterMs = ctx.TransactionRecordMinimumLifetimeMinutes * 60_000;
    return (e, index, report) => {
      if (e.type === "node.crash") {
        for (const [k, v] of last)
          if (k.startsWith(`${e.node}\u0000`)) {
            if (v.durable === undefined) last.delete(k);
            else last.set(k, { ...v, n: v.durable.n, e: v.durable.e });
          }
        return;
      }
      if ((e.type as string) === "reap.end") {
        const reaped = numberOf(field(e, "reaped")) ?? 0;
        for (const [k, v] of last)
          if (k.startsWith(`${e.node}\u0000`) && e.time - v.time >= reapAfterMs) {
            if (reaped > 0 || v.durable === undefined) last.delete(k);
            else last.set(k, { ...v, n: v.durable.n, e: v.durable.e });
          }
        return;
      }
      const t = txnTransition(e);
      if (t === undefined || index.ambiguous(t.lsidId)) return;
      const k = `${t.node}\u0000${t.lsidId}`;
      const prev = last.get(k);
      if (field(e, "reason") === "refreshFromStorage") {
        // The session's state was reloaded from config.transactions: only durable numbers survive.
        // (The reaper may delete the config.transactions entry of a session idle that long.)
        // (config.transactions' lastWriteDate is the last durable write's time.)
        const reapable =
          t.txnNumber < 0 && prev?.durable !== undefined && e.time - prev.durable.e.time >= reapAfterMs - 1000;
        if (prev?.durable !== undefined && t.txnNumber < prev.durable.n && !reapable)
          report({
            message: `${t.node}: session ${t.lsidId} reloaded txnNumber ${t.txnNumber} from storage, below its durable ${prev.durable.n}`,
            time: e.time,
            node: t.node,
            events: [prev.durable.e, e],
          });
        last.set(k, {
          n: t.txnNumber,
          e,
          time: e.time,
          ...(prev?.durable === undefined ? {} : { durable: prev.durable }),
        });
        return;
      }
      if (prev !== undefined && t.txnNumber < prev.n) {
        report({
          message: `${t.node}: session ${t.lsidId} went from txnNumber ${prev.n} back to ${t.txnNumber} (${t.to})`,
          time: e.time,
          node: t.node,
          events: [prev.e, e],
        });
        return;
      }
      const durable =
        t.to === "prepared" ||
        t.to === "committed" ||
        t.to === "abortedWithPrepare" ||
        t.to === "executedRetryableWrite"
          ? { n: t.txnNumber, e }
          : prev?.durable;
      last.set(k, {
        n: Math.max(t.txnNumber, prev?.n ?? -Infinity),
        e: t.txnNumber >= (prev?.n ?? -Infinity) ? e : prev!.e,
        time: e.time,
        ...(durable === undefined ? {} : { durable }),
      });
    };
  },
};

/**
 * TTL never deletes a `config.system.sessions` record before `lastUse + expireAfterSeconds`. The
 * record's `lastUse` is the applying shard's clock when a refresh upsert reached it (the pipeline
 * update's `$$NOW`), so it is at least that shard's clock at the upsert's delivery.
 *
 * @example
 * checkTrace(cluster.trace(), invariantContext({ parameters: { localLogicalSessionTimeoutMinutes: 5 } }), [ttlNotEarly]);
 */
export const ttlNotEarly: SafetyInvariant = {
  kind: "safety",
  name: "ttl-not-early",
  description:
    "The TTL monitor never deletes a session record before lastUse + localLogicalSessionTimeoutMinutes (by the deleting node's clock); lastUse is the applying shard's clock at the refresh upsert.",
  start: (ctx) => {
    const timeoutMs = ctx.localLogicalSessionTimeoutMinutes * 60_000;
    /** node\0key → the shard's clock at the last upsert it applied, and that request. */
    const lastUpsert = new Map<string, { clock: number; event: TraceEvent }>();
    /** Upserts delivered, awaiting their reply: delivery → clock at delivery. */
    const delivered = new Map<TraceEvent, number>();
    return (e, index, report) => {
      const r = index.lastRequest;
      const isUpsert =
        r !== undefined && r.name === "update" && r.body.db === "config" && r.body.command.update === "system.sessions";
      if (e.type === "net.deliver" && !e.label.endsWith(":reply")) {
        // `$$NOW` and the TTL monitor's clock are BSON dates: whole milliseconds of the node's clock.
        if (isUpsert) delivered.set(e, Math.floor(index.nodeClock(e.node, e.time)));
        return;
      }
      if (e.type === "cmd.reply" && isUpsert) {
        // Applied only if the command succeeded (a failCommand or an error applies nothing).
        const delivery = r.deliveries.find((d) => delivered.has(d));
        const clock = delivery === undefined ? undefined : delivered.get(delivery);
        if (delivery !== undefined) delivered.delete(delivery);
        const updates = r.body.command.updates;
        if (!e.ok || clock === undefined || !Array.isArray(updates)) return;
        for (const u of updates as { q?: { _id?: Document } }[]) {
          const id = u?.q?._id;
          const key = id === undefined ? undefined : keyOfRecord(id);
          if (key !== undefined) lastUpsert.set(`${e.node}\u0000${key}`, { clock, event: r.sendEvent });
        }
        return;
      }
      if ((e.type as string) !== "ttl.expire") return;
      const ns = field<string>(e, "ns");
      if (ns !== undefined && ns !== "config.system.sessions") return;
      const ids = field<unknown[]>(e, "ids") ?? [];
      const now = Math.floor(index.nodeClock(e.node, e.time));
      for (const id of ids) {
        const key = id !== null && typeof id === "object" ? keyOfRecord(id as Document) : undefined;
        if (key === undefined) continue;
        const last = lastUpsert.get(`${e.node}\u0000${key}`);
        if (last === undefined || now >= last.clock + timeoutMs) continue;
        report({
          message: `${e.node}: TTL deleted session ${key.slice(0, 8)} ${Math.round((last.clock + timeoutMs - now) / 1000)} s before lastUse + ${timeoutMs / 1000} s`,
          time: e.time,
          node: e.node,
          events: [last.event, e],
        });
      }
    };
  },
};

/**
 * After a kill command succeeds, no cursor of a killed session that was open when the kill arrived
 * is still open (on mongos, which broadcasts the kill, or on the mongod that received it).
 *
 * @example
 * checkTrace(cluster.trace(), ctx, [noCursorSurvivesKill]);
 */
export const noCursorSurvivesKill: SafetyInvariant = {
  kind: "safety",
  name: "no-cursor-survives-kill",
  description:
    "No cursor survives a kill of its session: once killSessions/killAllSessions/killAllSessionsByPattern answers ok, the cursors of matching sessions opened before it are closed (kill_sessions_local.cpp, kill_sessions_remote.cpp).",
  start: (ctx) => {
    /** Open cursors: node\0cursorId → event. */
    const open = new Map<string, TraceEvent>();
    const uidsById = new Map<string, Set<string>>();
    return (e, index, report) => {
      switch (e.type) {
        case "net.send": {
          const r = index.byMsgId.get(e.msgId);
          if (r?.lsidKey !== undefined) {
            const [id, uid] = r.lsidKey.split(":");
            let s = uidsById.get(id);
            if (s === undefined) uidsById.set(id, (s = new Set()));
            s.add(uid);
          }
          return;
        }
        case "cursor.open":
          if (e.lsid !== undefined) open.set(`${e.node}\u0000${e.cursorId}`, e);
          return;
        case "cursor.close":
          open.delete(`${e.node}\u0000${e.cursorId}`);
          return;
        case "node.crash":
          for (const k of [...open.keys()]) if (k.startsWith(`${e.node}\u0000`)) open.delete(k);
          return;
        case "cmd.reply": {
          if (!e.ok || !KILL_COMMANDS.has(e.command) || !e.client.startsWith("client")) return;
          // The request this reply answers.
          const req = index.lastRequest;
          if (req === undefined || req.deliveries.length === 0) return;
          const deliveredAt = req.deliveries[0].seq;
          const matches = killMatcherById(
            req.body,
            ctx.auth,
            (id) => [...(uidsById.get(id) ?? [])],
            ctx.killSessionsPatternSemantics,
          );
          const isMongos = e.node.startsWith("mongos");
          for (const [k, c] of open) {
            if (c.type !== "cursor.open" || c.seq > deliveredAt) continue;
            if (!isMongos && c.node !== e.node) continue;
            // A mongos kill reaches every shard member, not the config server.
            if (isMongos && c.node !== e.node && !c.node.startsWith("shard")) continue;
            const id = uuidHex(c.lsid);
            if (id === undefined || !matches(id)) continue;
            report({
              message: `cursor ${c.cursorId} of session ${id} on ${c.node} is still open after ${req.name} answered ok on ${e.node}`,
              time: e.time,
              node: c.node,
              events: [c, req.sendEvent, e],
            });
            open.delete(k);
          }
          return;
        }
        default:
          return;
      }
    };
  },
};

/**
 * `endSessions` never kills an operation: neither while it runs nor during the refresh that
 * processes it (which only closes cursors) is any operation interrupted or transaction aborted
 * without another cause (a kill, killOp, abortTransaction, the transaction lifetime limit).
 *
 * @example
 * checkTrace(cluster.trace(), ctx, [endSessionsNeverKills]);
 */
export const endSessionsNeverKills: SafetyInvariant = {
  kind: "safety",
  name: "end-sessions-never-kills",
  description:
    "endSessions never kills an operation or aborts a transaction; the refresh that processes it only closes cursors (logical_session_cache_impl.cpp _refresh steps 8–11).",
  start: () => {
    /** Per node: the endSessions delivery being processed, and the refresh window in progress. */
    const ending = new Map<string, TraceEvent>();
    const refreshing = new Map<string, { start: TraceEvent; causes: number }>();
    const causesSince = new Map<string, number>();
    const CAUSES = new Set([
      "killSessions",
      "killAllSessions",
      "killAllSessionsByPattern",
      "killOp",
      "abortTransaction",
      "killCursors",
    ]);
    return (e, index, report) => {
      if (e.type === "net.deliver" && !e.label.endsWith(":reply")) {
        const r = index.byMsgId.get(e.msgId);
        if (r === undefined) return;
        if (r.name === "endSessions") ending.set(e.node, e);
        if (CAUSES.has(r.name)) causesSince.set(e.node, (causesSince.get(e.node) ?? 0) + 1);
        return;
      }
      if (e.type === "cmd.reply" && e.command === "endSessions") {
        ending.delete(e.node);
        return;
      }
      if ((e.type as string) === "refresh.start") {
        refreshing.set(e.node, { start: e, causes: causesSince.get(e.node) ?? 0 });
        return;
      }
      if ((e.type as string) === "refresh.end" || e.type === "node.crash") {
        refreshing.delete(e.node);
        ending.delete(e.node);
        return;
      }
      const aborted = txnTransition(e);
      const interrupted = e.type === "op.interrupt" ? e : undefined;
      if (interrupted === undefined && (aborted === undefined || aborted.to !== "abortedWithoutPrepare")) return;
      const during = ending.get(e.node);
      if (during !== undefined) {
        report({
          message: `${e.node}: ${interrupted !== undefined ? `operation ${interrupted.command} interrupted` : `transaction ${aborted!.lsidId}:${aborted!.txnNumber} aborted`} while endSessions ran`,
          time: e.time,
          node: e.node,
          events: [during, e],
        });
        return;
      }
      const w = refreshing.get(e.node);
      if (w === undefined || interrupted === undefined) return;
      if ((causesSince.get(e.node) ?? 0) > w.causes) return;
      if (interrupted.codeName !== "Interrupted") return;
      report({
        message: `${e.node}: operation ${interrupted.command} interrupted (${interrupted.codeName}) during a session refresh, with no kill or killOp`,
        time: e.time,
        node: e.node,
        events: [w.start, e],
      });
    };
  },
};

/**
 * After a kill completes, the killed sessions can be used again at once.
 *
 * @example
 * checkTrace(cluster.trace(), ctx, [killedSessionsUsable]);
 */
export const killedSessionsUsable: SafetyInvariant = {
  kind: "safety",
  name: "killed-sessions-usable",
  description:
    "Killed sessions stay usable: the first command on a killed session after the kill answered does not fail because of the kill (NoSuchSession, Interrupted) unless another kill or killOp overlapped it.",
  start: (ctx) => {
    /** Recently completed kills: matcher and reply event. */
    const kills: { matches: (key: string) => boolean; reply: TraceEvent; req: RequestRecord }[] = [];
    let lastKillDeliverySeq = -1;
    const firstUseChecked = new Set<string>();
    return (e, index, report) => {
      if (e.type === "net.deliver" && !e.label.endsWith(":reply")) {
        const r = index.byMsgId.get(e.msgId);
        if (r !== undefined && (KILL_COMMANDS.has(r.name) || r.name === "killOp")) lastKillDeliverySeq = e.seq;
        return;
      }
      if (e.type !== "cmd.reply") return;
      const req = index.lastRequest;
      if (req === undefined) return;
      if (KILL_COMMANDS.has(req.name) && e.ok && req.fromClient) {
        kills.push({ matches: killMatcher(req.body, ctx.auth, ctx.killSessionsPatternSemantics), reply: e, req });
        if (kills.length > 20) kills.shift();
        return;
      }
      if (!req.fromClient || req.lsidKey === undefined || e.ok) {
        if (req.fromClient && req.lsidKey !== undefined) firstUseChecked.add(req.lsidKey);
        return;
      }
      if (e.codeName !== "NoSuchSession" && e.codeName !== "Interrupted") return;
      const deliveredAt = req.deliveries[0]?.seq ?? e.seq;
      const kill = [...kills].reverse().find((k) => k.reply.seq < deliveredAt && k.matches(req.lsidKey!));
      if (kill === undefined || lastKillDeliverySeq > kill.reply.seq) return;
      report({
        message: `${req.name} on killed session ${req.lsidKey.split(":")[0]} failed ${e.codeName} after the kill had completed`,
        time: e.time,
        node: e.node,
        events: [kill.req.sendEvent, kill.reply, req.sendEvent, e],
      });
    };
  },
};

/**
 * A node's session cache never holds more than `maxSessions` sessions.
 *
 * @example
 * checkTrace(cluster.trace(), invariantContext({ parameters: { maxSessions: 10 } }), [cacheWithinMaxSessions]);
 */
export const cacheWithinMaxSessions: SafetyInvariant = {
  kind: "safety",
  name: "cache-within-max-sessions",
  description:
    "A node's logical session cache never exceeds maxSessions: sessions added since its last refresh never outnumber it (TooManyLogicalSessions, logical_session_cache_impl.cpp _addToCacheIfNotFull).",
  start: (ctx) => {
    /** Per node: sessions surely in the cache (added since the last refresh ended, none running). */
    const added = new Map<string, Set<string>>();
    const refreshing = new Set<string>();
    return (e, _index, report) => {
      const type = e.type as string;
      if (type === "refresh.start" || type === "refresh.end" || e.type === "node.crash") {
        // A refresh swaps the cache out at some point between its start and end: what was added
        // before or during it may be gone.
        added.delete(e.node);
        if (type === "refresh.start") refreshing.add(e.node);
        else refreshing.delete(e.node);
        return;
      }
      if (type !== "session.vivify" && type !== "session.start") return;
      if (refreshing.has(e.node)) return;
      const id = uuidHex(field(e, "id"));
      const uid = field<string>(e, "uid");
      if (id === undefined) return;
      let s = added.get(e.node);
      if (s === undefined) added.set(e.node, (s = new Set()));
      s.add(`${id}:${uid ?? ""}`);
      if (s.size === ctx.maxSessions + 1)
        report({
          message: `${e.node}: ${s.size} distinct sessions added to the cache since its last refresh, maxSessions is ${ctx.maxSessions}`,
          time: e.time,
          node: e.node,
          events: [e],
        });
    };
  },
};

/**
 * Every safety invariant of the library.
 *
 * @example
 * const monitor = new InvariantMonitor(ctx, SAFETY_INVARIANTS);
 */
export const SAFETY_INVARIANTS: readonly SafetyInvariant[] = [
  noNodeBug,
  killNeverAbortsPrepared,
  crossShardAtomicity,
  txnNumberMonotone,
  ttlNotEarly,
  noCursorSurvivesKill,
  endSessionsNeverKills,
  killedSessionsUsable,
  cacheWithinMaxSessions,
];
