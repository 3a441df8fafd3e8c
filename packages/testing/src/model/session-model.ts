import type { Document, TraceEvent } from "sessionsim";
import { field, NON_ATTACHING_COMMANDS, TraceIndex, type RequestRecord } from "../trace-index.js";
import { keyOfRecord, sessionKey, sessionUid, uidHex, uuidHex } from "../util.js";

/**
 * Whether the model knows a session is somewhere (`yes`) or only that it may be (`maybe`).
 *
 * @example
 * const p: Presence | undefined = model.cacheOf("mongos0").get(key); // "yes", "maybe" or absent
 */
export type Presence = "yes" | "maybe";

/**
 * What a client command is, for the model (registered before it is sent).
 *
 * @example
 * model.expect(conn.clientName, { kind: "endSessions", keys: [key] });
 */
export type Expectation =
  | { readonly kind: "startSession"; readonly user?: UserRef; reply?: Document }
  | { readonly kind: "use"; readonly keys: readonly string[] }
  | { readonly kind: "endSessions"; readonly keys: readonly string[] }
  | { readonly kind: "listLocal"; reply?: Document }
  | { readonly kind: "listSessions"; reply?: Document }
  | { readonly kind: "other" };

/**
 * A user as `{user, db}`.
 *
 * @example
 * const alice: UserRef = { user: "alice", db: "test" };
 * model.expect(conn.clientName, { kind: "startSession", user: alice });
 */
export interface UserRef {
  readonly user: string;
  readonly db: string;
}

/**
 * A disagreement between the cluster and the reference model.
 *
 * @example
 * for (const v of model.violations) console.log(`${v.node}: ${v.message}`);
 */
export interface ModelViolation {
  readonly message: string;
  readonly time: number;
  readonly node: string;
  readonly events: readonly TraceEvent[];
}

interface Window {
  readonly node: string;
  readonly start: TraceEvent;
  readonly snapshot: Map<string, Presence>;
  readonly endingSnapshot: Map<string, Presence>;
  /** Sessions used on the node (or with operations running on it) while the refresh ran. */
  readonly touched: Set<string>;
  readonly endedDuring: Set<string>;
  readonly phantoms: number;
  endSeq?: number;
  /** Another refresh ran on the same node at the same time: which one ended when is unknown. */
  tainted: boolean;
}

interface NodeState {
  readonly cache: Map<string, Presence>;
  readonly ending: Map<string, Presence>;
  /** Sessions of requests in flight on the node (delivered, not answered). */
  readonly running: Map<string, number>;
  /** Sessions started whose id the client never learned (reply lost). */
  phantoms: number;
  /** Refreshes running on the node (more than one when refreshLogicalSessionCacheNow overlaps a periodic one). */
  readonly open: Window[];
  refreshStarts: number;
}

interface CollRecord {
  presence: Presence;
  /** Earliest true time the stored `lastUse` can stand for. */
  lastUseAtLeast: number;
}

interface Pending {
  readonly exp: Expectation;
  readonly client: string;
  /** Per delivery: the node's refresh counter at delivery time. */
  readonly deliveredAt: { seq: number; refreshStarts: number }[];
  /** Replies processed so far (a duplicated request runs more than once). */
  replies: number;
}

/**
 * The reference model of observable session behaviour: what each node's `$listLocalSessions`
 * and the cluster's `$listSessions` may show. It is fed the run's trace (requests with their
 * deliveries and replies, refresh starts and ends, crashes) plus what clients meant to do; refresh
 * timing comes from the trace's `refresh.start` / `refresh.end` events, so periodic refreshes need
 * no guessing. Where the model cannot know (a refresh racing a use, a failed refresh, an
 * unanswered request) it says `maybe`, and the next listing resolves it.
 *
 * @remarks
 * Rules from the reference (`shared/reference/mongo-sessions-semantics.md`): a use vivifies the
 * session in the receiving node's cache only (checklist 7, 35); a successful refresh upserts the
 * cache (and running operations' sessions) and empties it (11, 13); ended sessions are removed at
 * the ending node's next refresh (29); failed refreshes keep what they swapped out (25–27); a crash
 * loses the cache; records expire `localLogicalSessionTimeoutMinutes` after the refresh that wrote
 * them (17–19).
 *
 * @example
 * const model = new SessionModel({ auth: false, maxSessions: 1_000_000, timeoutMs: 1_800_000 });
 * model.expect("client1", { kind: "startSession" });
 * for (const e of cluster.trace()) model.add(e);
 * assert.deepEqual(model.violations, []);
 */
export class SessionModel {
  readonly index: TraceIndex;
  readonly violations: ModelViolation[] = [];
  private readonly nodes = new Map<string, NodeState>();
  private readonly coll = new Map<string, CollRecord>();
  private readonly queues = new Map<string, Expectation[]>();
  private readonly pending = new Map<number, Pending>();
  private readonly windows: Window[] = [];
  /** Unknown session keys seen in listings and accepted as the lost replies' sessions. */
  private readonly adopted = new Set<string>();
  private phantomBudget = 0;
  private clockSlackMs = 0;
  /** How many listings the model checked. */
  checks = { listLocal: 0, listSessions: 0, skipped: 0 };

  constructor(
    readonly options: {
      readonly auth: boolean;
      readonly maxSessions: number;
      readonly timeoutMs: number;
      /** Extra tolerance on TTL deadlines (TTL monitor period); default 60 s. */
      readonly ttlSlackMs?: number;
      /** Receives a line for every change the model makes (debugging a disagreement). */
      readonly debug?: (line: string) => void;
    },
    index?: TraceIndex,
  ) {
    this.index = index ?? new TraceIndex({ auth: options.auth });
  }

  /** Registers what the next request sent from `client` is. */
  expect(client: string, exp: Expectation): void {
    let q = this.queues.get(client);
    if (q === undefined) this.queues.set(client, (q = []));
    q.push(exp);
  }

  /**
   * Withdraws an expectation whose request never went on the wire (the node refused the
   * connection: it was down).
   */
  unexpect(client: string, exp: Expectation): void {
    const q = this.queues.get(client);
    const i = q?.lastIndexOf(exp) ?? -1;
    if (i >= 0) q!.splice(i, 1);
  }

  /** The model's view of a node's cache (for tools and tests). */
  cacheOf(node: string): ReadonlyMap<string, Presence> {
    return this.node(node).cache;
  }

  /** The model's view of `config.system.sessions` at true time `now`. */
  collection(now: number): Map<string, Presence> {
    const out = new Map<string, Presence>();
    for (const [k, r] of this.coll) out.set(k, this.presenceAt(r, now));
    return out;
  }

  /**
   * Feeds one trace event. If the model's index is shared with another consumer that already added
   * the event, pass `indexed: true`.
   */
  add(e: TraceEvent, indexed = false): void {
    const rec = indexed ? this.index.lastRequest : this.index.add(e);
    const type = e.type as string;
    switch (e.type) {
      case "net.send":
        if (rec !== undefined && rec.fromClient) {
          const exp = this.queues.get(rec.from)?.shift();
          if (exp !== undefined) this.pending.set(rec.msgId, { exp, client: rec.from, deliveredAt: [], replies: 0 });
        }
        return;
      case "net.deliver":
        if (rec !== undefined && !e.label.endsWith(":reply")) this.onDeliver(e, rec);
        return;
      case "cmd.reply":
        if (rec !== undefined) this.onReply(e, rec);
        return;
      case "node.crash":
        this.onCrash(e);
        return;
      case "clock.set":
        this.clockSlackMs = Math.max(this.clockSlackMs, 2 * Math.abs(e.offsetMs));
        return;
      default:
        break;
    }
    if (type === "refresh.start") this.onRefreshStart(e);
    else if (type === "refresh.end") this.onRefreshEnd(e);
  }

  // ---- events ---------------------------------------------------------------------------------

  private node(name: string): NodeState {
    let n = this.nodes.get(name);
    if (n === undefined)
      this.nodes.set(
        name,
        (n = { cache: new Map(), ending: new Map(), running: new Map(), phantoms: 0, open: [], refreshStarts: 0 }),
      );
    return n;
  }

  /** The sessions a request adds to the receiving node's cache (its lsid, refreshSessions' list). */
  private vivifiedBy(rec: RequestRecord, pending: Pending | undefined): string[] {
    const keys: string[] = [];
    if (rec.lsidKey !== undefined && !NON_ATTACHING_COMMANDS.has(rec.name)) keys.push(rec.lsidKey);
    if (rec.name === "refreshSessions" && pending?.exp.kind === "use") keys.push(...pending.exp.keys);
    return keys;
  }

  private onDeliver(e: TraceEvent, rec: RequestRecord): void {
    if (!e.node.startsWith("mongos") && !e.node.startsWith("shard") && !e.node.startsWith("config")) return;
    const n = this.node(e.node);
    const p = this.pending.get(rec.msgId);
    p?.deliveredAt.push({ seq: e.seq, refreshStarts: n.refreshStarts });
    for (const k of this.vivifiedBy(rec, p)) {
      if (n.cache.get(k) !== "yes") n.cache.set(k, "maybe");
      this.options.debug?.(`#${e.seq} ${e.node} deliver ${rec.name}: cache ${k.slice(0, 8)} → ${n.cache.get(k)}`);
      n.running.set(k, (n.running.get(k) ?? 0) + 1);
      for (const w of n.open) w.touched.add(k);
    }
  }

  private onReply(e: TraceEvent, rec: RequestRecord): void {
    if (e.type !== "cmd.reply") return;
    const n = this.node(e.node);
    const p = this.pending.get(rec.msgId);
    const keys = this.vivifiedBy(rec, p);
    for (const k of keys) {
      const c = (n.running.get(k) ?? 1) - 1;
      if (c <= 0) n.running.delete(k);
      else n.running.set(k, c);
    }
    if (p === undefined) return;
    p.replies++;
    const delivery = p.deliveredAt.shift();
    const quiet = delivery !== undefined && delivery.refreshStarts === n.refreshStarts && n.open.length === 0;
    const exp = p.exp;
    if (e.ok && quiet) for (const k of keys) n.cache.set(k, "yes");
    if (this.options.debug !== undefined)
      for (const k of keys)
        this.options.debug(
          `#${e.seq} ${e.node} reply ${rec.name} ok=${String(e.ok)} quiet=${String(quiet)}: cache ${k.slice(0, 8)} → ${n.cache.get(k) ?? "no"}`,
        );
    // (mongos relays its shards' errors: only a command it runs locally speaks for its own cache.)
    const local = !e.node.startsWith("mongos") || rec.name === "startSession" || rec.name === "refreshSessions";
    if (!e.ok && e.codeName === "TooManyLogicalSessions" && local) {
      const upper = this.upperCacheSize(n);
      if (upper < this.options.maxSessions)
        this.violate(
          e,
          `${e.node} refused ${e.command} with TooManyLogicalSessions although its cache holds at most ${upper} of maxSessions ${this.options.maxSessions}`,
          [rec.sendEvent, e],
        );
    }
    switch (exp.kind) {
      case "startSession":
        return this.onStartSessionReply(e, n, exp, quiet && rec.duplicated !== true, rec, p.replies > 1);
      case "endSessions":
        if (e.ok) for (const k of exp.keys) n.ending.set(k, quiet ? "yes" : (n.ending.get(k) ?? "maybe"));
        if (e.ok) for (const k of exp.keys) for (const w of n.open) w.endedDuring.add(k);
        return;
      case "use":
        if (e.ok && !quiet) for (const k of keys) if (n.cache.get(k) !== "yes") n.cache.set(k, "maybe");
        return;
      // A duplicated request ran twice; which run's reply the client got is unknown: no observation.
      case "listLocal":
        if (rec.duplicated === true) return void this.checks.skipped++;
        return this.onListLocal(e, n, exp.reply, rec);
      case "listSessions":
        if (rec.duplicated === true) return void this.checks.skipped++;
        return this.onListSessions(e, exp.reply, rec, delivery?.seq);
      case "other":
        return;
    }
  }

  private upperCacheSize(n: NodeState): number {
    return n.cache.size + n.phantoms;
  }

  private lowerCacheSize(n: NodeState): number {
    let c = 0;
    for (const v of n.cache.values()) if (v === "yes") c++;
    return c;
  }

  private onStartSessionReply(
    e: TraceEvent & { type: "cmd.reply" },
    n: NodeState,
    exp: Expectation & { kind: "startSession" },
    quiet: boolean,
    rec: RequestRecord,
    again: boolean,
  ): void {
    if (!e.ok) {
      if (e.codeName === "TooManyLogicalSessions") return;
      return;
    }
    if (quiet && this.lowerCacheSize(n) >= this.options.maxSessions)
      this.violate(
        e,
        `${e.node} started a session although its cache already held maxSessions (${this.options.maxSessions}) sessions`,
        [rec.sendEvent, e],
      );
    // A duplicated request started a second session; the client learned only one id.
    const id = !again && exp.reply?.ok === 1 ? uuidHex((exp.reply.id as Document | undefined)?.id) : undefined;
    if (id === undefined) {
      n.phantoms++;
      this.phantomBudget++;
      return;
    }
    const key = sessionKey(id, uidHex(sessionUid(this.options.auth, exp.user)));
    n.cache.set(key, quiet ? "yes" : "maybe");
    for (const w of n.open) w.touched.add(key);
  }

  private onRefreshStart(e: TraceEvent): void {
    const n = this.node(e.node);
    n.refreshStarts++;
    const w: Window = {
      node: e.node,
      start: e,
      snapshot: new Map(n.cache),
      endingSnapshot: new Map(n.ending),
      touched: new Set(n.running.keys()),
      endedDuring: new Set(),
      phantoms: n.phantoms,
      tainted: n.open.length > 0,
    };
    for (const o of n.open) o.tainted = true;
    n.open.push(w);
    this.windows.push(w);
  }

  private onRefreshEnd(e: TraceEvent): void {
    const n = this.node(e.node);
    // With overlapping refreshes the event does not say which one ended: close the oldest and
    // treat every overlapping one as failed (all they touched is uncertain).
    const w = n.open.shift();
    if (w === undefined) return;
    w.endSeq = e.seq;
    const ok = field(e, "ok") === true;
    const failed = Number(field(e, "failed") ?? 0);
    const clean = ok && failed === 0 && !w.tainted;
    const lastUseAtLeast = w.start.time - this.clockSlackMs;
    /** Whether another refresh running at the same time may delete `k` (then the order of writes is unknown). */
    const racingDelete = (k: string): boolean =>
      this.windows.some(
        (o) =>
          o !== w &&
          (o.endSeq === undefined || o.endSeq > w.start.seq) &&
          (o.endingSnapshot.has(k) || o.endedDuring.has(k)),
      );
    /** Whether another refresh running at the same time may upsert `k`. */
    const racingUpsert = (k: string): boolean =>
      this.windows.some(
        (o) => o !== w && (o.endSeq === undefined || o.endSeq > w.start.seq) && (o.snapshot.has(k) || o.touched.has(k)),
      );
    const debug = (k: string, what: string): void =>
      this.options.debug?.(
        `#${e.seq} ${e.node} refresh.end ok=${String(ok)} failed=${failed}: coll ${k.slice(0, 8)} ${what} → ${this.coll.get(k)?.presence ?? "no"}`,
      );
    /** The refresh upserted `k` (certainly, or maybe). */
    const upsert = (k: string, certain: boolean): void => {
      const prev = this.coll.get(k);
      if (certain && !racingDelete(k))
        this.coll.set(k, {
          presence: "yes",
          lastUseAtLeast: Math.max(prev?.presence === "yes" ? prev.lastUseAtLeast : -Infinity, lastUseAtLeast),
        });
      else if (prev === undefined) this.coll.set(k, { presence: "maybe", lastUseAtLeast });
      else if (racingDelete(k)) prev.presence = "maybe";
      debug(k, certain ? "upsert" : "maybe upsert");
    };
    /** The refresh removed `k` (certainly, or maybe). */
    const remove = (k: string, certain: boolean): void => {
      const prev = this.coll.get(k);
      if (certain && !racingUpsert(k)) this.coll.delete(k);
      else if (prev !== undefined) prev.presence = "maybe";
      debug(k, certain ? "remove" : "maybe remove");
    };
    // Upserts: the swapped-out cache (minus ended sessions), and running operations' sessions.
    // (A session ended while the refresh ran may have been swapped out with the ending ones.)
    for (const [k, p] of w.snapshot) {
      if (w.endingSnapshot.get(k) === "yes") continue;
      upsert(k, clean && p === "yes" && !w.endingSnapshot.has(k) && !w.endedDuring.has(k));
    }
    for (const k of w.touched) if (!w.snapshot.has(k) && w.endingSnapshot.get(k) !== "yes") upsert(k, false);
    // Removals of ended sessions.
    for (const [k, p] of w.endingSnapshot) remove(k, clean && p === "yes" && !w.endedDuring.has(k));
    for (const k of w.endedDuring) if (!w.endingSnapshot.has(k)) remove(k, false);
    // The cache after the refresh: what was used during it stays; on failure everything may be back.
    for (const k of w.snapshot.keys()) {
      if (w.touched.has(k)) n.cache.set(k, "maybe");
      else if (clean) {
        if (n.cache.get(k) === w.snapshot.get(k)) n.cache.delete(k);
      } else n.cache.set(k, "maybe");
    }
    for (const k of w.touched) if (!w.snapshot.has(k) && n.cache.has(k)) n.cache.set(k, "maybe");
    for (const [k] of w.endingSnapshot) {
      if (w.endedDuring.has(k)) continue;
      if (clean) n.ending.delete(k);
      else n.ending.set(k, "maybe");
    }
    if (clean) n.phantoms = Math.max(0, n.phantoms - w.phantoms);
    if (this.options.debug !== undefined)
      for (const k of new Set([...w.snapshot.keys(), ...w.touched]))
        this.options.debug(`#${e.seq} ${e.node} refresh.end: cache ${k.slice(0, 8)} → ${n.cache.get(k) ?? "no"}`);
    this.pruneWindows();
  }

  private pruneWindows(): void {
    let oldestOpen = Infinity;
    for (const w of this.windows) if (w.endSeq === undefined) oldestOpen = Math.min(oldestOpen, w.start.seq);
    for (let i = this.windows.length - 1; i >= 0; i--) {
      const w = this.windows[i];
      if (w.endSeq !== undefined && w.endSeq < oldestOpen && this.windows.length > 64) this.windows.splice(i, 1);
    }
    if (oldestOpen === Infinity) {
      // Nothing open: only windows that ended at the very end matter for the next ones.
      const keep = this.windows.filter((w) => w.endSeq !== undefined).slice(-8);
      this.windows.length = 0;
      this.windows.push(...keep);
    }
  }

  private onCrash(e: TraceEvent): void {
    const n = this.node(e.node);
    for (const w of n.open) {
      w.endSeq = e.seq;
      for (const k of [...w.snapshot.keys(), ...w.touched, ...w.endingSnapshot.keys()]) {
        const prev = this.coll.get(k);
        if (prev === undefined)
          this.coll.set(k, { presence: "maybe", lastUseAtLeast: w.start.time - this.clockSlackMs });
        else if (w.endingSnapshot.has(k)) prev.presence = "maybe";
      }
    }
    n.open.length = 0;
    n.cache.clear();
    n.ending.clear();
    n.running.clear();
    n.phantoms = 0;
  }

  // ---- observations ---------------------------------------------------------------------------

  private presenceAt(r: CollRecord, now: number): Presence {
    if (r.presence === "maybe") return "maybe";
    const slack = this.options.ttlSlackMs ?? 60_000;
    return now < r.lastUseAtLeast + this.options.timeoutMs - slack - this.clockSlackMs ? "yes" : "maybe";
  }

  /** Accepts an unknown key if a lost startSession reply can explain it. */
  private adopt(k: string): boolean {
    if (this.adopted.has(k)) return true;
    if (this.phantomBudget <= 0) return false;
    this.phantomBudget--;
    this.adopted.add(k);
    return true;
  }

  private onListLocal(
    e: TraceEvent & { type: "cmd.reply" },
    n: NodeState,
    reply: Document | undefined,
    rec: RequestRecord,
  ): void {
    if (!e.ok || reply === undefined || reply.ok !== 1) return;
    if (n.open.length > 0) {
      this.checks.skipped++;
      return;
    }
    const docs = (reply.cursor as { firstBatch?: Document[] } | undefined)?.firstBatch ?? [];
    const listed = new Set<string>();
    for (const d of docs) {
      const k = keyOfRecord(d);
      if (k !== undefined) listed.add(k);
    }
    this.checks.listLocal++;
    const missing = [...n.cache].filter(([k, p]) => p === "yes" && !listed.has(k)).map(([k]) => k);
    const extra = [...listed].filter((k) => !n.cache.has(k) && !this.adopt(k));
    if (missing.length > 0 || extra.length > 0)
      this.violate(
        e,
        `$listLocalSessions on ${e.node} disagrees with the model:` +
          (missing.length > 0 ? ` missing ${missing.map(short).join(", ")}` : "") +
          (extra.length > 0 ? ` unexpected ${extra.map(short).join(", ")}` : ""),
        [rec.sendEvent, e],
      );
    // What was seen is now known.
    n.cache.clear();
    for (const k of listed) n.cache.set(k, "yes");
    n.phantoms = 0;
  }

  private onListSessions(
    e: TraceEvent & { type: "cmd.reply" },
    reply: Document | undefined,
    rec: RequestRecord,
    deliveredSeq: number | undefined,
  ): void {
    if (!e.ok || reply === undefined || reply.ok !== 1 || deliveredSeq === undefined) return;
    // Only a quiet listing is comparable: no refresh may have written while the shards were read.
    if (this.windows.some((w) => w.endSeq === undefined || w.endSeq > deliveredSeq)) {
      this.checks.skipped++;
      return;
    }
    const docs = (reply.cursor as { firstBatch?: Document[] } | undefined)?.firstBatch ?? [];
    const listed = new Map<string, Document>();
    for (const d of docs) {
      const k = keyOfRecord(d);
      if (k !== undefined) listed.set(k, d);
    }
    this.checks.listSessions++;
    const now = e.time;
    const missing = [...this.coll]
      .filter(([k, r]) => this.presenceAt(r, now) === "yes" && !listed.has(k))
      .map(([k]) => k);
    const extra = [...listed.keys()].filter((k) => !this.coll.has(k) && !this.adopt(k));
    if (missing.length > 0 || extra.length > 0)
      this.violate(
        e,
        `$listSessions disagrees with the model:` +
          (missing.length > 0 ? ` missing ${missing.map(short).join(", ")}` : "") +
          (extra.length > 0 ? ` unexpected ${extra.map(short).join(", ")}` : ""),
        [rec.sendEvent, e],
      );
    this.coll.clear();
    for (const [k, d] of listed) {
      const lastUse = d.lastUse instanceof Date ? d.lastUse.getTime() : now;
      this.coll.set(k, { presence: "yes", lastUseAtLeast: Math.min(lastUse, now) - this.clockSlackMs });
    }
  }

  private violate(e: TraceEvent, message: string, events: TraceEvent[]): void {
    this.violations.push({ message, time: e.time, node: e.node, events });
  }
}

function short(k: string): string {
  return k.slice(0, 8);
}
