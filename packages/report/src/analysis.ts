/**
 * One pass over a trace that reconstructs what the report shows and explains: messages with their
 * replies, each node's session cache and refreshes, the records of `config.system.sessions`, open
 * cursors, transactions, coordinators and kills. Pure: a function of the trace only.
 *
 * Where the trace says it directly (a `session.vivify`, a `cursor.close`) the report uses that;
 * where it does not (which sessions a refresh upserted) it reads the refresh's own messages (the
 * `update`s of `config.system.sessions` it sent), and falls back on the server's rules
 * (`LogicalSessionCacheImpl::_refresh`: a successful refresh upserts the swapped-out cache).
 */
import { asEvents, isRecord, lsidOf, num, str, type AnyEvent, type EventLike } from "./events.js";

/** A step function of time: `values[i]` holds from `times[i]` until `times[i + 1]`. */
export interface StepSeries {
  readonly times: number[];
  readonly values: number[];
}

/** A message from its send to its delivery (or loss). */
export interface MessageFact {
  readonly index: number;
  readonly msgId: number;
  readonly from: string;
  readonly to: string;
  /** Kernel label: the command name, `<name>:reply` for replies. */
  readonly label: string;
  /** The command name (label without `:reply`). */
  readonly command: string;
  readonly isReply: boolean;
  send?: AnyEvent;
  readonly delivers: AnyEvent[];
  drop?: AnyEvent;
  duplicated?: AnyEvent;
  /** Request payload `{db, command, user?, internal?}`. */
  readonly db?: string;
  readonly doc?: Record<string, unknown>;
  /** Session the command carries (`lsid.id`). */
  readonly lsid?: string;
  /** For a request, its reply message; for a reply, its request. */
  peer?: MessageFact;
  /** The server's `cmd.reply` event for this request/reply. */
  outcome?: AnyEvent;
}

/** One periodic refresh of a node's logical session cache (`refresh.start` … `refresh.end`). */
export interface RefreshFact {
  readonly node: string;
  readonly start: AnyEvent;
  end?: AnyEvent;
  /** Ended by a crash instead of `refresh.end`. */
  crashed?: AnyEvent;
  /** Whether it succeeded (undefined while running or after a crash). */
  ok?: boolean;
  /** Sessions swapped out of the cache at the start (to be upserted). */
  readonly swapped: string[];
  /** Sessions ended (`endSessions`) before the start (to be deleted). */
  readonly ending: string[];
  /** Record writes this refresh made, in order. */
  readonly writes: RecordChange[];
  /** Its lookups of `config.system.sessions` (sessions owning cursors). */
  readonly lookups: MessageFact[];
  /** How many `update`/`delete` requests of `config.system.sessions` it sent. */
  sentWrites: number;
}

export const RecordChangeKind = Object.freeze({ upsert: "upsert", delete: "delete", expire: "expire" } as const);
export type RecordChangeKind = (typeof RecordChangeKind)[keyof typeof RecordChangeKind];

/** A change of one `config.system.sessions` record. */
export interface RecordChange {
  readonly kind: RecordChangeKind;
  readonly id: string;
  readonly time: number;
  /** The event that applied it: the write's delivery, the `ttl.expire`, or the `refresh.end` (inferred). */
  readonly seq: number;
  /** The shard holding the record (unknown when inferred). */
  readonly shard?: string;
  /** The node whose refresh wrote it. */
  readonly by?: string;
  readonly refresh?: RefreshFact;
  readonly message?: MessageFact;
  /** Whether the record existed right before this change. */
  readonly existed: boolean;
}

export const LifecycleKind = Object.freeze({
  started: "started",
  vivified: "vivified",
  refreshed: "refreshed",
  ended: "ended",
  removed: "removed",
  expired: "expired",
  lost: "lost",
  killed: "killed",
  cursorClosed: "cursorClosed",
} as const);
export type LifecycleKind = (typeof LifecycleKind)[keyof typeof LifecycleKind];

/** A step of a session's life on one node. */
export interface LifecycleEntry {
  readonly kind: LifecycleKind;
  readonly node: string;
  readonly time: number;
  readonly seq: number;
  readonly detail?: string;
}

export interface SessionFact {
  readonly id: string;
  uid?: string;
  user?: string;
  /** First `session.start`/`session.vivify` per node. */
  readonly firstSeen: Map<string, AnyEvent>;
  /** Every time a node added it to its cache. */
  readonly cached: AnyEvent[];
  /** Requests carrying it, delivered to a server. */
  readonly uses: AnyEvent[];
  readonly lifecycle: LifecycleEntry[];
}

/** A participant's transaction on one node. */
export interface TxnFact {
  readonly node: string;
  readonly lsid: string;
  readonly txnNumber: string;
  /** State changes in order (`txn.state`). */
  readonly states: { readonly state: string; readonly event: AnyEvent }[];
}

/** A two-phase-commit coordinator on one node. */
export interface CoordFact {
  readonly node: string;
  readonly lsid: string;
  readonly txnNumber: string;
  readonly steps: AnyEvent[];
  /** `coord.create` (its `recovered` says whether it was resumed from its document). */
  created?: AnyEvent;
  decision?: AnyEvent;
  /** `coord.end`. */
  end?: AnyEvent;
}

/** A local kill (`kill.local`) and the request that caused it. */
export interface KillFact {
  readonly event: AnyEvent;
  readonly request?: MessageFact;
  /** For a kill forwarded by a mongos: the client's kill command that the mongos received. */
  readonly origin?: MessageFact;
  /** Transactions that were prepared on the node at the kill (they survive it). */
  readonly prepared: TxnFact[];
}

/** Per-node step series for the timelines. */
export interface NodeSeriesRaw {
  readonly cacheSize: StepSeries;
  readonly openCursors: StepSeries;
  readonly sessionRecords: StepSeries;
  readonly transactions: Map<string, StepSeries>;
}

export interface Analysis {
  readonly events: readonly AnyEvent[];
  readonly start: number;
  readonly end: number;
  /** Server nodes and clients, in lane order (clients, mongos, shards, config, others). */
  readonly nodes: string[];
  readonly messages: MessageFact[];
  /** `net.send`/`net.deliver`/`net.drop` seq → its message. */
  readonly messageOfSeq: Map<number, MessageFact>;
  readonly refreshes: RefreshFact[];
  readonly sessions: Map<string, SessionFact>;
  readonly records: Map<string, RecordChange[]>;
  readonly crashes: AnyEvent[];
  readonly txns: TxnFact[];
  readonly coordinators: CoordFact[];
  readonly kills: KillFact[];
  readonly cursorCloses: AnyEvent[];
  readonly ttlExpires: AnyEvent[];
  readonly listSessionsRequests: MessageFact[];
  readonly series: Map<string, NodeSeriesRaw>;
  readonly totalRecords: StepSeries;
  /** Lookup of an event by seq. */
  event(seq: number): AnyEvent | undefined;
}

/** Commands that kill sessions (their requests cause `kill.local`). */
export const KILL_COMMANDS: ReadonlySet<string> = new Set([
  "killSessions",
  "killAllSessions",
  "killAllSessionsByPattern",
]);

const SESSIONS_COLLECTION = "system.sessions";

/** Participant states as MongoDB's `TransactionParticipant` names them, without the `k`. */
export function normalizeTxnState(s: string): string {
  const t = /^k[A-Z]/.test(s) ? s.slice(1) : s;
  return t.charAt(0).toLowerCase() + t.slice(1);
}

function txnNumberOf(v: unknown): string {
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "string") return String(v);
  if (isRecord(v)) return String(v); // a bson Long prints its value
  return "?";
}

function nodeRank(name: string): number {
  if (name.startsWith("client")) return 0;
  if (name.startsWith("mongos")) return 1;
  if (name.startsWith("shard")) return 2;
  if (name.startsWith("config")) return 3;
  return 4;
}

/** Orders node names as lanes: clients, mongos, shards, config servers, others; numbers naturally. */
export function compareNodes(a: string, b: string): number {
  return nodeRank(a) - nodeRank(b) || a.localeCompare(b, "en", { numeric: true });
}

/** Nodes that are not lanes: narration and the network itself. */
export const PSEUDO_NODES: ReadonlySet<string> = new Set(["scenario", "kernel", "network"]);

class Step {
  readonly series: StepSeries = { times: [], values: [] };
  private value = 0;
  constructor(start: number) {
    this.series.times.push(start);
    this.series.values.push(0);
  }
  set(at: number, value: number): void {
    if (value === this.value) return;
    this.value = value;
    const { times, values } = this.series;
    // a trace's times never go back; if one did, keep the series a function of time anyway
    const time = Math.max(at, times[times.length - 1]);
    if (times[times.length - 1] === time) values[values.length - 1] = value;
    else {
      times.push(time);
      values.push(value);
    }
  }
  get current(): number {
    return this.value;
  }
}

interface NodeState {
  cache: Set<string>;
  ending: Set<string>;
  refresh?: RefreshFact;
  cursors: Map<string, string | undefined>;
  txns: Map<string, TxnFact>;
  cacheSize: Step;
  openCursors: Step;
  records: Step;
  txnSteps: Map<string, Step>;
  /** Delivered requests awaiting their `cmd.reply`, per `client|command`. */
  awaiting: Map<string, MessageFact[]>;
}

/** Analyses a trace (see the module comment). */
export function analyze(trace: readonly EventLike[]): Analysis {
  const events = asEvents(trace);
  const start = events.length > 0 ? events[0].time : 0;
  const end = events.length > 0 ? events[events.length - 1].time : 0;
  const bySeq = new Map<number, AnyEvent>();
  const nodeSet = new Set<string>();
  const messages: MessageFact[] = [];
  const messageById = new Map<number, MessageFact>();
  const messageOfSeq = new Map<number, MessageFact>();
  const refreshes: RefreshFact[] = [];
  const sessions = new Map<string, SessionFact>();
  const records = new Map<string, RecordChange[]>();
  const recordShard = new Map<string, string | undefined>();
  const crashes: AnyEvent[] = [];
  const txns: TxnFact[] = [];
  const coordinators = new Map<string, CoordFact>();
  const kills: KillFact[] = [];
  const cursorCloses: AnyEvent[] = [];
  const ttlExpires: AnyEvent[] = [];
  const listSessionsRequests: MessageFact[] = [];
  const states = new Map<string, NodeState>();
  const totalRecords = new Step(start);
  const lastKillRequest = new Map<string, MessageFact>();
  /** The `cmd.reply` just recorded: the reply message it describes is the next event. */
  let answered: { readonly event: AnyEvent; readonly request?: MessageFact } | undefined;

  const nodeState = (node: string): NodeState => {
    let s = states.get(node);
    if (s === undefined) {
      s = {
        cache: new Set(),
        ending: new Set(),
        cursors: new Map(),
        txns: new Map(),
        cacheSize: new Step(start),
        openCursors: new Step(start),
        records: new Step(start),
        txnSteps: new Map(),
        awaiting: new Map(),
      };
      states.set(node, s);
    }
    return s;
  };
  const addNode = (node: string | undefined): void => {
    if (node !== undefined && !PSEUDO_NODES.has(node)) {
      nodeSet.add(node);
      nodeState(node);
    }
  };
  const session = (id: string): SessionFact => {
    let s = sessions.get(id);
    if (s === undefined) {
      s = { id, firstSeen: new Map(), cached: [], uses: [], lifecycle: [] };
      sessions.set(id, s);
    }
    return s;
  };
  const lifecycle = (id: string, kind: LifecycleKind, node: string, e: AnyEvent, detail?: string): void => {
    session(id).lifecycle.push({ kind, node, time: e.time, seq: e.seq, ...(detail === undefined ? {} : { detail }) });
  };
  const recordExists = (id: string): boolean => {
    const h = records.get(id);
    return h !== undefined && h.length > 0 && h[h.length - 1].kind === "upsert";
  };
  const changeRecord = (change: Omit<RecordChange, "existed">): RecordChange => {
    const existed = recordExists(change.id);
    const full: RecordChange = { ...change, existed };
    let h = records.get(change.id);
    if (h === undefined) records.set(change.id, (h = []));
    h.push(full);
    const before = recordShard.get(change.id);
    if (existed && before !== undefined) {
      const st = nodeState(before);
      st.records.set(change.time, st.records.current - 1);
    }
    if (change.kind === "upsert") {
      recordShard.set(change.id, change.shard);
      if (change.shard !== undefined) {
        const st = nodeState(change.shard);
        st.records.set(change.time, st.records.current + 1);
      }
      if (!existed) totalRecords.set(change.time, totalRecords.current + 1);
    } else {
      recordShard.delete(change.id);
      if (existed) totalRecords.set(change.time, totalRecords.current - 1);
    }
    return full;
  };
  const txnStep = (st: NodeState, state: string): Step => {
    let s = st.txnSteps.get(state);
    if (s === undefined) st.txnSteps.set(state, (s = new Step(start)));
    return s;
  };
  const setTxnState = (st: NodeState, txn: TxnFact, state: string | undefined, time: number): void => {
    const before = txn.states.length > 1 ? txn.states[txn.states.length - 2].state : undefined;
    if (before !== undefined && before !== "none") txnStep(st, before).set(time, txnStep(st, before).current - 1);
    if (state !== undefined && state !== "none") txnStep(st, state).set(time, txnStep(st, state).current + 1);
  };
  const applyTxnState = (lsid: string, txnNumber: string, state: string, e: AnyEvent): void => {
    const st = nodeState(e.node);
    const key = `${lsid}:${txnNumber}`;
    let t = st.txns.get(key);
    if (t === undefined) {
      t = { node: e.node, lsid, txnNumber, states: [] };
      st.txns.set(key, t);
      txns.push(t);
    }
    t.states.push({ state, event: e });
    setTxnState(st, t, state, e.time);
  };
  /** Without `txn.state` events, participant states are read off the transaction commands' replies. */
  const hasTxnStates = events.some((e) => e.type === "txn.state");
  const txnStateFromCommand = (m: MessageFact, reply: AnyEvent): void => {
    if (hasTxnStates || m.lsid === undefined || m.doc?.autocommit !== false || reply.node.startsWith("mongos")) return;
    const txnNumber = txnNumberOf(m.doc.txnNumber);
    const last = nodeState(reply.node).txns.get(`${m.lsid}:${txnNumber}`)?.states.at(-1)?.state;
    let to: string | undefined;
    if (m.command === "prepareTransaction") to = "prepared";
    else if (m.command === "commitTransaction") to = "committed";
    else if (m.command === "abortTransaction")
      to = last === "prepared" ? "abortedWithPrepare" : "abortedWithoutPrepare";
    else if (m.doc.startTransaction === true) to = "inProgress";
    if (to !== undefined && to !== last) applyTxnState(m.lsid, txnNumber, to, reply);
  };
  const messageFor = (e: AnyEvent, from: string, to: string): MessageFact => {
    const msgId = num(e, "msgId") ?? -1;
    let m = messageById.get(msgId);
    if (m === undefined) {
      const label = str(e, "label") ?? "?";
      const isReply = label.endsWith(":reply");
      const payload = e.payload;
      const doc = isRecord(payload) && isRecord(payload.command) ? payload.command : undefined;
      const db = isRecord(payload) && typeof payload.db === "string" ? payload.db : undefined;
      const lsid = doc === undefined ? undefined : lsidOf(doc.lsid);
      m = {
        index: messages.length,
        msgId,
        from,
        to,
        label,
        command: isReply ? label.slice(0, -":reply".length) : label,
        isReply,
        delivers: [],
        ...(db === undefined ? {} : { db }),
        ...(doc === undefined ? {} : { doc }),
        ...(lsid === undefined ? {} : { lsid }),
      };
      messages.push(m);
      messageById.set(msgId, m);
    }
    messageOfSeq.set(e.seq, m);
    return m;
  };
  /** With `kill.*` events, their patterns say which sessions a kill matched; without, the request does. */
  const hasKillEvents = events.some((e) => e.type === "kill.local" || e.type === "kill.remote");
  /** Sessions known to `node` that kill patterns (`all …`, `lsid:<uuid> …`, `uid:<hex> …`) match. */
  const sessionsMatching = (node: string, patterns: unknown): string[] => {
    const known = [...sessions.values()].filter((s) => s.firstSeen.has(node) || s.uses.some((u) => u.node === node));
    const out = new Set<string>();
    for (const p of Array.isArray(patterns) ? patterns : []) {
      if (typeof p !== "string") continue;
      if (p.startsWith("all")) for (const s of known) out.add(s.id);
      const lsid = /^lsid:([0-9a-fA-F-]{32,36})/.exec(p);
      if (lsid !== null) for (const s of known) if (s.id === lsidOf(lsid[1])) out.add(s.id);
      const uid = /^uid:([0-9a-fA-F]+)/.exec(p);
      if (uid !== null) for (const s of known) if (s.uid?.toLowerCase() === uid[1].toLowerCase()) out.add(s.id);
    }
    return [...out];
  };
  const sessionIdsIn = (list: unknown): string[] => {
    if (!Array.isArray(list)) return [];
    const ids: string[] = [];
    for (const x of list) {
      const id = lsidOf(x) ?? (isRecord(x) ? lsidOf(x.lsid) : undefined);
      if (id !== undefined) ids.push(id);
    }
    return ids;
  };
  const isSessionsCollection = (m: MessageFact, verb: string): boolean =>
    m.db === "config" && m.doc !== undefined && m.doc[verb] === SESSIONS_COLLECTION;

  /** A request reaching a server: session uses, record writes, kills. */
  const onRequestDelivered = (m: MessageFact, e: AnyEvent): void => {
    const st = nodeState(e.node);
    const key = `${m.from}|${m.command}`;
    let q = st.awaiting.get(key);
    if (q === undefined) st.awaiting.set(key, (q = []));
    q.push(m);
    if (m.lsid !== undefined) session(m.lsid).uses.push(e);
    if (KILL_COMMANDS.has(m.command)) {
      lastKillRequest.set(e.node, m);
      if (hasKillEvents) return;
      const named = sessionIdsIn(m.doc?.[m.command]);
      const targets =
        named.length > 0 ? named : [...sessions.values()].filter((s) => s.firstSeen.has(e.node)).map((s) => s.id);
      for (const id of targets) lifecycle(id, "killed", e.node, e, `${m.command} from ${m.from}`);
    }
    if (m.doc !== undefined && m.command === "aggregate" && Array.isArray(m.doc.pipeline)) {
      const first: unknown = m.doc.pipeline[0];
      if (isRecord(first) && "$listSessions" in first) listSessionsRequests.push(m);
    }
  };

  /** The server's answer to a request: applies `config.system.sessions` writes that succeeded. */
  const onRequestAnswered = (m: MessageFact, reply: AnyEvent): void => {
    if (reply.ok === false || m.doc === undefined) return;
    txnStateFromCommand(m, reply);
    const refresh = nodeState(m.from).refresh;
    const by = m.from;
    const shard = reply.node;
    if (isSessionsCollection(m, "update") && Array.isArray(m.doc.updates)) {
      for (const u of m.doc.updates) {
        const id = isRecord(u) && isRecord(u.q) ? lsidOf(u.q._id) : undefined;
        if (id === undefined) continue;
        const c = changeRecord({
          kind: "upsert",
          id,
          time: reply.time,
          seq: reply.seq,
          shard,
          by,
          refresh,
          message: m,
        });
        refresh?.writes.push(c);
        lifecycle(id, "refreshed", by, reply, `record on ${shard}`);
      }
    } else if (isSessionsCollection(m, "delete") && Array.isArray(m.doc.deletes)) {
      for (const d of m.doc.deletes) {
        const id = isRecord(d) && isRecord(d.q) ? lsidOf(d.q._id) : undefined;
        if (id === undefined) continue;
        const c = changeRecord({
          kind: "delete",
          id,
          time: reply.time,
          seq: reply.seq,
          shard,
          by,
          refresh,
          message: m,
        });
        refresh?.writes.push(c);
        lifecycle(id, "removed", by, reply, `record deleted on ${shard}`);
      }
    }
  };

  const endRefresh = (st: NodeState, e: AnyEvent, ok: boolean): void => {
    const r = st.refresh;
    if (r === undefined) return;
    st.refresh = undefined;
    r.ok = ok;
    if (!ok) {
      for (const id of r.swapped) st.cache.add(id);
      for (const id of r.ending) st.ending.add(id);
    } else if (r.sentWrites === 0) {
      // No write messages seen (a trace without payloads): apply the server's rule instead.
      for (const id of r.swapped) {
        const c = changeRecord({ kind: "upsert", id, time: e.time, seq: e.seq, by: r.node, refresh: r });
        r.writes.push(c);
        lifecycle(id, "refreshed", r.node, e);
      }
      for (const id of r.ending) {
        if (!recordExists(id)) continue;
        r.writes.push(changeRecord({ kind: "delete", id, time: e.time, seq: e.seq, by: r.node, refresh: r }));
        lifecycle(id, "removed", r.node, e);
      }
    }
    st.cacheSize.set(e.time, st.cache.size);
  };

  for (const e of events) {
    bySeq.set(e.seq, e);
    addNode(e.node);
    switch (e.type) {
      case "net.send": {
        const to = str(e, "to") ?? "?";
        addNode(e.node);
        addNode(to);
        const m = messageFor(e, e.node, to);
        m.send = e;
        if (
          m.isReply &&
          answered !== undefined &&
          answered.event.node === e.node &&
          str(answered.event, "client") === to
        ) {
          m.outcome = answered.event;
          if (answered.request !== undefined) {
            answered.request.peer = m;
            m.peer = answered.request;
          }
        }
        const refresh = nodeState(e.node).refresh;
        if (refresh !== undefined && (isSessionsCollection(m, "update") || isSessionsCollection(m, "delete")))
          refresh.sentWrites++;
        if (refresh !== undefined && isSessionsCollection(m, "find")) refresh.lookups.push(m);
        break;
      }
      case "net.deliver": {
        const from = str(e, "from") ?? "?";
        addNode(e.node);
        const m = messageFor(e, from, e.node);
        m.delivers.push(e);
        if (!m.isReply && m.delivers.length === 1) onRequestDelivered(m, e);
        break;
      }
      case "net.drop": {
        const m = messageFor(e, e.node, str(e, "to") ?? "?");
        m.drop = e;
        break;
      }
      case "net.duplicate": {
        const m = messageById.get(num(e, "msgId") ?? -1);
        if (m !== undefined) {
          m.duplicated = e;
          messageOfSeq.set(e.seq, m);
        }
        break;
      }
      case "cmd.reply": {
        const st = nodeState(e.node);
        const client = str(e, "client") ?? "?";
        const q = st.awaiting.get(`${client}|${str(e, "command") ?? ""}`);
        const req = q?.shift();
        if (req !== undefined) {
          req.outcome = e;
          onRequestAnswered(req, e);
        }
        answered = { event: e, ...(req === undefined ? {} : { request: req }) };
        continue;
      }
      case "session.start":
      case "session.vivify": {
        addNode(e.node);
        const id = lsidOf(e.id) ?? lsidOf(e.lsid);
        if (id === undefined) break;
        const s = session(id);
        const uid = str(e, "uid");
        const user = str(e, "user");
        if (uid !== undefined) s.uid ??= uid;
        if (user !== undefined) s.user ??= user;
        if (!s.firstSeen.has(e.node)) s.firstSeen.set(e.node, e);
        s.cached.push(e);
        const st = nodeState(e.node);
        st.cache.add(id);
        st.cacheSize.set(e.time, st.cache.size);
        lifecycle(id, e.type === "session.start" ? "started" : "vivified", e.node, e);
        break;
      }
      case "session.end": {
        const id = lsidOf(e.id) ?? lsidOf(e.lsid);
        if (id === undefined) break;
        nodeState(e.node).ending.add(id);
        lifecycle(id, "ended", e.node, e);
        break;
      }
      case "refresh.start": {
        addNode(e.node);
        const st = nodeState(e.node);
        const r: RefreshFact = {
          node: e.node,
          start: e,
          sentWrites: 0,
          swapped: [...st.cache].filter((id) => !st.ending.has(id)),
          ending: [...st.ending],
          writes: [],
          lookups: [],
        };
        refreshes.push(r);
        st.refresh = r;
        st.cache = new Set();
        st.ending = new Set();
        st.cacheSize.set(e.time, 0);
        break;
      }
      case "refresh.end": {
        const st = nodeState(e.node);
        if (st.refresh !== undefined) st.refresh.end = e;
        endRefresh(st, e, e.ok !== false);
        break;
      }
      case "ttl.expire": {
        ttlExpires.push(e);
        const ns = str(e, "ns");
        if (ns !== undefined && ns !== `config.${SESSIONS_COLLECTION}`) break;
        for (const id of sessionIdsIn(e.ids)) {
          changeRecord({ kind: "expire", id, time: e.time, seq: e.seq, shard: e.node });
          lifecycle(id, "expired", e.node, e);
        }
        break;
      }
      case "cursor.open": {
        const st = nodeState(e.node);
        st.cursors.set(str(e, "cursorId") ?? "?", lsidOf(e.lsid));
        st.openCursors.set(e.time, st.cursors.size);
        break;
      }
      case "cursor.close": {
        const st = nodeState(e.node);
        st.cursors.delete(str(e, "cursorId") ?? "?");
        st.openCursors.set(e.time, st.cursors.size);
        cursorCloses.push(e);
        const id = lsidOf(e.lsid);
        const reason = str(e, "reason") ?? "";
        if (id !== undefined && reason !== "exhausted")
          lifecycle(id, "cursorClosed", e.node, e, `cursor ${str(e, "cursorId")} (${reason})`);
        break;
      }
      case "txn.state": {
        const lsid = lsidOf(e.lsid) ?? lsidOf(e.id);
        if (lsid !== undefined)
          applyTxnState(lsid, txnNumberOf(e.txnNumber), normalizeTxnState(str(e, "to") ?? "none"), e);
        break;
      }
      case "coord.create":
      case "coord.end":
      case "coord.step":
      case "coord.decision": {
        const lsid = lsidOf(e.lsid) ?? lsidOf(e.id);
        if (lsid === undefined) break;
        const key = `${e.node}|${lsid}:${txnNumberOf(e.txnNumber)}`;
        let c = coordinators.get(key);
        if (c === undefined) {
          c = { node: e.node, lsid, txnNumber: txnNumberOf(e.txnNumber), steps: [] };
          coordinators.set(key, c);
        }
        if (e.type === "coord.step") c.steps.push(e);
        else if (e.type === "coord.decision") c.decision = e;
        else if (e.type === "coord.create") c.created = e;
        else c.end = e;
        break;
      }
      case "kill.local":
      case "kill.remote": {
        const st = nodeState(e.node);
        const request = lastKillRequest.get(e.node);
        for (const id of sessionsMatching(e.node, e.patterns))
          lifecycle(
            id,
            "killed",
            e.node,
            e,
            request === undefined ? "kill" : `${request.command} from ${request.from}`,
          );
        if (e.type === "kill.remote") break;
        const prepared = [...st.txns.values()].filter((t) => t.states[t.states.length - 1]?.state === "prepared");
        const origin = request === undefined ? undefined : lastKillRequest.get(request.from);
        kills.push({
          event: e,
          prepared,
          ...(request === undefined ? {} : { request }),
          ...(origin === undefined || origin === request ? {} : { origin }),
        });
        break;
      }
      case "node.crash": {
        crashes.push(e);
        const st = nodeState(e.node);
        const lost = new Set([...st.cache, ...(st.refresh?.swapped ?? [])]);
        for (const id of lost) lifecycle(id, "lost", e.node, e, "in-memory cache lost in the crash");
        if (st.refresh !== undefined) st.refresh.crashed = e;
        st.refresh = undefined;
        st.cache = new Set();
        st.ending = new Set();
        st.cacheSize.set(e.time, 0);
        st.cursors.clear();
        st.openCursors.set(e.time, 0);
        st.awaiting.clear();
        for (const t of st.txns.values()) {
          const last = t.states[t.states.length - 1]?.state;
          if (last === "inProgress") {
            t.states.push({ state: "none", event: e });
            setTxnState(st, t, undefined, e.time);
          }
        }
        break;
      }
      default:
        addNode(e.node);
        break;
    }
    answered = undefined;
  }

  const series = new Map<string, NodeSeriesRaw>();
  for (const n of [...nodeSet].sort(compareNodes)) {
    const st = nodeState(n);
    series.set(n, {
      cacheSize: st.cacheSize.series,
      openCursors: st.openCursors.series,
      sessionRecords: st.records.series,
      transactions: new Map([...st.txnSteps].map(([k, v]) => [k, v.series])),
    });
  }
  for (const s of sessions.values()) s.lifecycle.sort((a, b) => a.seq - b.seq);

  return {
    events,
    start,
    end,
    nodes: [...nodeSet].sort(compareNodes),
    messages,
    messageOfSeq,
    refreshes,
    sessions,
    records,
    crashes,
    txns,
    coordinators: [...coordinators.values()],
    kills,
    cursorCloses,
    ttlExpires,
    listSessionsRequests,
    series,
    totalRecords: totalRecords.series,
    event: (seq) => bySeq.get(seq),
  };
}

/** Whether the record of session `id` exists right after event `seq`. */
export function recordExistsAt(a: Analysis, id: string, seq: number): boolean {
  let exists = false;
  for (const c of a.records.get(id) ?? []) {
    if (c.seq > seq) break;
    exists = c.kind === "upsert";
  }
  return exists;
}

/** The last change of session `id`'s record at or before `seq`. */
export function lastRecordChange(
  a: Analysis,
  id: string,
  seq: number,
  kind?: RecordChangeKind,
): RecordChange | undefined {
  let last: RecordChange | undefined;
  for (const c of a.records.get(id) ?? []) {
    if (c.seq > seq) break;
    if (kind === undefined || c.kind === kind) last = c;
  }
  return last;
}

/** Number of trace events of each type (unknown ones included). */
export function countTypes(a: Analysis): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of a.events) m.set(e.type, (m.get(e.type) ?? 0) + 1);
  return m;
}
