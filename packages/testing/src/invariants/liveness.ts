import { Binary, type Document, type TraceEvent } from "sessionsim";
import { field, NON_ATTACHING_COMMANDS, type RequestRecord } from "../trace-index.js";
import { sessionKey, sessionUid, uidHex, uuidHex } from "../util.js";
import { txnTransition } from "./safety.js";
import { keysOf, listSessionRecords, observerConnection, readAll } from "./cluster-queries.js";
import type { LivenessInvariant, LivenessRun, Violation } from "./types.js";

type Found = Omit<Violation, "invariant" | "kind">;

/**
 * The keys an `endSessions`/`refreshSessions` request names (uid computed for the caller).
 *
 * @internal Not exported from the package.
 */
export function sessionsNamedBy(r: RequestRecord, auth: boolean): string[] {
  const arg = r.body.command[r.name];
  if (!Array.isArray(arg)) return [];
  const callerUid = uidHex(sessionUid(auth, r.body.user));
  const out: string[] = [];
  for (const item of arg as unknown[]) {
    const d = item as Document | null;
    const id = uuidHex(d?.id);
    if (id === undefined || id.length !== 32) continue;
    out.push(sessionKey(id, d?.uid instanceof Binary ? uidHex(d.uid) : callerUid));
  }
  return out;
}

/** Server-side uses of sessions: session.start / session.vivify events and answered requests with an lsid. */
function sessionUses(run: LivenessRun): { key: string; node: string; event: TraceEvent }[] {
  const out: { key: string; node: string; event: TraceEvent }[] = [];
  for (const e of run.trace) {
    const t = e.type as string;
    if (t === "session.start" || t === "session.vivify") {
      const id = uuidHex(field(e, "id"));
      const uid = field<string>(e, "uid");
      if (id !== undefined && uid !== undefined) out.push({ key: sessionKey(id, uid), node: e.node, event: e });
    }
  }
  for (const r of run.index.requests) {
    if (r.lsidKey === undefined || NON_ATTACHING_COMMANDS.has(r.name)) continue;
    // A use happens when the request arrives (the session is vivified then); it counts if the
    // command succeeded. (A long-running command's session is refreshed while it runs, but only
    // its arrival is a guaranteed use.)
    if (r.replies.some((reply) => reply.type === "cmd.reply" && reply.ok) && r.deliveries.length > 0)
      out.push({ key: r.lsidKey, node: r.to, event: r.deliveries[r.deliveries.length - 1] });
  }
  return out;
}

function crashesOf(run: LivenessRun): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const e of run.trace)
    if (e.type === "node.crash") {
      let l = m.get(e.node);
      if (l === undefined) m.set(e.node, (l = []));
      l.push(e.seq);
    }
  return m;
}

/**
 * Every prepared transaction resolves once faults stop, every unprepared one ends (lifetime limit),
 * and the coordinators forget them (`config.transaction_coordinators` empties).
 *
 * @example
 * const stoppedAt = await stopFaults(cluster);
 * await checkLiveness(cluster, ctx, stoppedAt, [transactionsResolve]);
 */
export const transactionsResolve: LivenessInvariant = {
  kind: "liveness",
  name: "transactions-resolve",
  description:
    "After faults stop, every prepared transaction commits or aborts, every in-progress one ends within transactionLifetimeLimitSeconds, and config.transaction_coordinators empties.",
  // (A participant whose session cache is full refuses the decision — TooManyLogicalSessions —
  // until its next refresh empties the cache: then allow one more refresh interval.)
  after: (ctx, index) =>
    ctx.transactionLifetimeLimitSeconds * 2000 +
    ctx.slackMs * 2 +
    (index?.sawTooManyLogicalSessions === true ? ctx.logicalSessionRefreshMillis : 0),
  check: async (run) => {
    const found: Found[] = [];
    const last = new Map<string, TraceEvent>();
    const crashedAfter = crashesOf(run);
    for (const e of run.trace) {
      const t = txnTransition(e);
      if (t !== undefined) last.set(`${t.node}\u0000${t.lsidId}\u0000${t.txnNumber}`, e);
    }
    for (const e of last.values()) {
      const t = txnTransition(e)!;
      if (t.to === "prepared")
        found.push({
          message: `transaction ${t.lsidId}:${t.txnNumber} is still prepared on ${t.node} after faults stopped`,
          time: run.cluster.now().getTime(),
          node: t.node,
          events: [e],
        });
      else if (t.to === "inProgress" && !(crashedAfter.get(t.node) ?? []).some((s) => s > e.seq))
        found.push({
          message: `transaction ${t.lsidId}:${t.txnNumber} is still in progress on ${t.node} past the lifetime limit`,
          time: run.cluster.now().getTime(),
          node: t.node,
          events: [e],
        });
    }
    for (let i = 0; i < run.ctx.shards; i++) {
      const node = run.cluster.shard(i);
      const conn = observerConnection(run.cluster, node, run.ctx);
      const docs = await readAll(
        conn,
        "config",
        { find: "transaction_coordinators", filter: {}, batchSize: 10_000 },
        `find config.transaction_coordinators on ${node}`,
      );
      for (const d of docs)
        found.push({
          message: `coordinator document ${JSON.stringify(d._id)} remains on ${node} after faults stopped`,
          time: run.cluster.now().getTime(),
          node,
          events: [],
        });
    }
    return found;
  },
};

/**
 * A used, not-ended session is stored in `config.system.sessions` within a refresh interval after faults stop.
 *
 * @example
 * await checkLiveness(cluster, ctx, await stopFaults(cluster), [sessionsPersisted]);
 */
export const sessionsPersisted: LivenessInvariant = {
  kind: "liveness",
  name: "sessions-persisted",
  description:
    "A session used on a node that did not crash afterwards, never ended and recent enough not to have expired, is in config.system.sessions within one logicalSessionRefreshMillis after faults stop.",
  after: (ctx) => ctx.logicalSessionRefreshMillis + ctx.slackMs,
  check: async (run) => {
    if (run.ctx.shards === 0) return [];
    const now = run.cluster.now().getTime();
    const timeoutMs = run.ctx.localLogicalSessionTimeoutMinutes * 60_000;
    const crashes = crashesOf(run);
    const ended = new Set<string>();
    for (const r of run.index.requests)
      if (r.name === "endSessions") for (const k of sessionsNamedBy(r, run.ctx.auth)) ended.add(k);
    /** Latest surviving use per key. */
    const expected = new Map<string, { node: string; event: TraceEvent }>();
    for (const u of sessionUses(run)) {
      if (ended.has(u.key)) continue;
      if ((crashes.get(u.node) ?? []).some((s) => s > u.event.seq)) continue;
      if (u.event.time <= now - timeoutMs + run.ctx.slackMs + run.index.maxClockOffsetMs * 2) continue;
      const prev = expected.get(u.key);
      if (prev === undefined || prev.event.seq < u.event.seq) expected.set(u.key, u);
    }
    if (expected.size === 0) return [];
    const stored = keysOf(await listSessionRecords(observerConnection(run.cluster, run.cluster.mongos(0), run.ctx)));
    const found: Found[] = [];
    for (const [key, u] of expected)
      if (!stored.has(key))
        found.push({
          message: `session ${key.split(":")[0]} used on ${u.node} at ${new Date(u.event.time).toISOString()} is not in config.system.sessions ${Math.round((now - run.faultsStoppedAt) / 1000)} s after faults stopped`,
          time: now,
          node: u.node,
          events: [u.event],
        });
    return found;
  },
};

/**
 * An ended session is gone from `config.system.sessions` after the next successful refresh of the
 * node that received `endSessions` — unless something used it again (or another node's cache still
 * held it and refreshed it back, which MongoDB allows).
 *
 * @example
 * await checkLiveness(cluster, ctx, await stopFaults(cluster), [endedSessionsRemoved]);
 */
export const endedSessionsRemoved: LivenessInvariant = {
  kind: "liveness",
  name: "ended-sessions-removed",
  description:
    "A session ended with endSessions is absent from config.system.sessions after the next refresh of the node that received endSessions whose removal step succeeded, unless it was used again or another node's pending refresh legitimately re-upserts it.",
  after: (ctx) => ctx.logicalSessionRefreshMillis + ctx.slackMs,
  check: async (run) => {
    if (run.ctx.shards === 0) return [];
    /** Per node, its refresh windows; overlapping ones (refreshLogicalSessionCacheNow during a periodic refresh) are tainted. */
    type RefreshWindow = { start: TraceEvent; end?: TraceEvent; tainted: boolean };
    const refreshes = new Map<string, RefreshWindow[]>();
    const open = new Map<string, RefreshWindow[]>();
    for (const e of run.trace) {
      const t = e.type as string;
      if (t === "refresh.start") {
        const w: RefreshWindow = { start: e, tainted: false };
        let o = open.get(e.node);
        if (o === undefined) open.set(e.node, (o = []));
        if (o.length > 0) {
          w.tainted = true;
          for (const x of o) x.tainted = true;
        }
        o.push(w);
        let l = refreshes.get(e.node);
        if (l === undefined) refreshes.set(e.node, (l = []));
        l.push(w);
      } else if (t === "refresh.end") {
        const w = open.get(e.node)?.shift();
        if (w !== undefined) w.end = e;
      } else if (e.type === "node.crash") open.delete(e.node);
    }
    /** A refresh that certainly flushed the node's cache (it alone ran, and every upsert succeeded). */
    const good = (w: RefreshWindow): boolean =>
      !w.tainted && w.end !== undefined && field(w.end, "ok") === true && Number(field(w.end, "failed") ?? 0) === 0;
    const crashes = crashesOf(run);
    const uses = sessionUses(run);
    const deliveries: { key: string; node: string; seq: number; replied: number }[] = [];
    for (const r of run.index.requests)
      if (r.lsidKey !== undefined)
        for (const d of r.deliveries)
          deliveries.push({
            key: r.lsidKey,
            node: r.to,
            seq: d.seq,
            replied: r.replies.find((x) => x.seq > d.seq)?.seq ?? Infinity,
          });
    const mustBeGone = new Map<string, TraceEvent[]>();
    for (const r of run.index.requests) {
      if (r.name !== "endSessions") continue;
      const reply = r.replies.find((x) => x.type === "cmd.reply" && x.ok);
      if (reply === undefined) continue;
      const n = r.to;
      // The refresh that removed the ended sessions: the first one whose removal step succeeded
      // (`ended` > 0; with the [M] partial-failure refresh that can be a refresh reporting an error).
      const removed = (x: RefreshWindow): boolean => x.end !== undefined && Number(field(x.end, "ended") ?? 0) > 0;
      const w = (refreshes.get(n) ?? []).find((x) => x.start.seq > reply.seq && removed(x));
      if (w === undefined) continue;
      if ((crashes.get(n) ?? []).some((s) => s > reply.seq && s < w.end!.seq)) continue;
      for (const key of sessionsNamedBy(r, run.ctx.auth)) {
        // Used again after the end (anywhere)?
        if (uses.some((u) => u.key === key && u.event.seq > reply.seq)) continue;
        if (deliveries.some((d) => d.key === key && (d.seq > reply.seq || d.replied > w.start.seq))) continue;
        // Another node whose cache may still hold it when n removes it?
        const resurrect = uses.some((u) => {
          if (u.key !== key || u.node === n || u.event.seq > w.end!.seq) return false;
          if ((crashes.get(u.node) ?? []).some((s) => s > u.event.seq && s < w.start.seq)) return false;
          return !(refreshes.get(u.node) ?? []).some(
            (x) => x.start.seq > u.event.seq && good(x) && x.end!.seq < w.start.seq,
          );
        });
        if (resurrect) continue;
        // Ended again later by another node (still gone): fine either way.
        mustBeGone.set(key, [r.sendEvent, reply, w.start, w.end!]);
      }
    }
    if (mustBeGone.size === 0) return [];
    const stored = keysOf(await listSessionRecords(observerConnection(run.cluster, run.cluster.mongos(0), run.ctx)));
    const found: Found[] = [];
    for (const [key, events] of mustBeGone)
      if (stored.has(key))
        found.push({
          message: `session ${key.split(":")[0]} was ended on ${events[1].node} and that node refreshed successfully, yet it is still in config.system.sessions`,
          time: run.cluster.now().getTime(),
          node: events[1].node,
          events,
        });
    return found;
  },
};

/**
 * Data check of cross-shard atomicity: workload documents carry `{txn: <tag>, of: <n>}`; every tag
 * has either all `n` documents or none.
 *
 * @example
 * // documents written in transactions carry {txn: <tag>, of: <count>}
 * await checkLiveness(cluster, ctx, await stopFaults(cluster), [transactionDataAtomic]);
 */
export const transactionDataAtomic: LivenessInvariant = {
  kind: "liveness",
  name: "transaction-data-atomic",
  description:
    "Every multi-document transaction's writes are all visible or none is: documents tagged {txn, of} appear in groups of exactly `of` or not at all.",
  after: (ctx, index) =>
    ctx.transactionLifetimeLimitSeconds * 2000 +
    ctx.slackMs * 2 +
    (index?.sawTooManyLogicalSessions === true ? ctx.logicalSessionRefreshMillis : 0),
  check: async (run) => {
    if (run.ctx.shards === 0) return [];
    const found: Found[] = [];
    const conn = observerConnection(run.cluster, run.cluster.mongos(0), run.ctx);
    for (const ns of run.ctx.dataNamespaces) {
      const [db, ...rest] = ns.split(".");
      const docs = await readAll(
        conn,
        db,
        { find: rest.join("."), filter: { txn: { $exists: true } }, batchSize: 10_000 },
        `find ${ns}`,
      );
      const groups = new Map<string, { of: number; n: number }>();
      for (const d of docs) {
        const tag = String(d.txn);
        const g = groups.get(tag) ?? { of: Number(d.of), n: 0 };
        g.n++;
        groups.set(tag, g);
      }
      for (const [tag, g] of groups)
        if (g.n !== g.of)
          found.push({
            message: `transaction ${tag} in ${ns}: ${g.n} of its ${g.of} documents are visible`,
            time: run.cluster.now().getTime(),
            events: [],
          });
    }
    return found;
  },
};

/**
 * Data check of retryable writes: workload updates `$push` a statement id (`<lsid>:<txnNumber>:<stmt>`)
 * to an `ops` array under a retryable write; no id may appear twice.
 *
 * @example
 * // each retryable update pushes "<lsid>:<txnNumber>:<stmt>" to an `ops` array
 * await checkLiveness(cluster, ctx, await stopFaults(cluster), [retryableAtMostOnce]);
 */
export const retryableAtMostOnce: LivenessInvariant = {
  kind: "liveness",
  name: "retryable-at-most-once",
  description:
    "A retryable write statement (same lsid, txnNumber, stmtId) is applied at most once, however often it is retried or duplicated by the network.",
  after: (ctx) => ctx.slackMs,
  check: async (run) => {
    if (run.ctx.shards === 0) return [];
    const found: Found[] = [];
    const conn = observerConnection(run.cluster, run.cluster.mongos(0), run.ctx);
    for (const ns of run.ctx.dataNamespaces) {
      const [db, ...rest] = ns.split(".");
      const docs = await readAll(
        conn,
        db,
        { find: rest.join("."), filter: { ops: { $exists: true } }, batchSize: 10_000 },
        `find ${ns}`,
      );
      for (const d of docs) {
        const ops = Array.isArray(d.ops) ? (d.ops as unknown[]).map(String) : [];
        const seen = new Set<string>();
        for (const op of ops) {
          if (seen.has(op)) {
            const sends = run.index.requests
              .filter((r) => r.fromClient && JSON.stringify(r.body.command).includes(op))
              .map((r) => r.sendEvent);
            found.push({
              message: `retryable statement ${op} was applied twice to ${ns} ${String(d._id)}`,
              time: run.cluster.now().getTime(),
              events: sends,
            });
          }
          seen.add(op);
        }
      }
    }
    return found;
  },
};

/**
 * Every liveness invariant of the library.
 *
 * @example
 * await checkLiveness(cluster, ctx, await stopFaults(cluster), LIVENESS_INVARIANTS);
 */
export const LIVENESS_INVARIANTS: readonly LivenessInvariant[] = [
  retryableAtMostOnce,
  sessionsPersisted,
  endedSessionsRemoved,
  transactionsResolve,
  transactionDataAtomic,
];
