import {
  Cluster,
  Long,
  NetworkError,
  type ClusterOptions,
  type Connection,
  type Document,
  type InFlight,
  type TraceEvent,
  type UUID,
} from "sessionsim";
import { InvariantMonitor } from "../invariants/monitor.js";
import { invariantContext, type Invariant, type InvariantContext, type Violation } from "../invariants/types.js";
import { ALL_INVARIANTS, checkLiveness, stopFaults } from "../invariants/monitor.js";
import { derivedUuid, formatVirtualTime, sessionKey, sessionUid, uidHex, uuidHex } from "../util.js";
import { SessionModel, type Expectation, type ModelViolation, type UserRef } from "./session-model.js";

/**
 * A node named by role and index, as in log lines: `mongos0`, `shard1`, `config0`.
 *
 * @example
 * const node: NodeRef = "shard1";
 * sys.crash(node);
 */
export type NodeRef = `mongos${number}` | `shard${number}` | `config${number}`;

/**
 * The users the standard workload runs as (created at start when auth is on).
 *
 * @example
 * await Cluster.start({ auth: true, users: Object.values(WORKLOAD_USERS) });
 */
export const WORKLOAD_USERS = Object.freeze({
  alice: { user: "alice", db: "test", roles: [{ role: "readWrite", db: "test" }] },
  bob: { user: "bob", db: "test", roles: [{ role: "readWrite", db: "test" }] },
  admin: { user: "admin", db: "admin", roles: [{ role: "root", db: "admin" }] },
} as const);

/**
 * A workload user's name, or undefined for an unauthenticated connection.
 *
 * @example
 * const user: WorkloadUser = "alice";
 * await sys.startSession("s1", "mongos0", user);
 */
export type WorkloadUser = keyof typeof WORKLOAD_USERS | undefined;

/**
 * Raised when the run breaks an invariant or disagrees with the model (fast-check then shrinks).
 *
 * @example
 * try {
 *   sys.sync();
 * } catch (e) {
 *   if (e instanceof PropertyViolation) for (const v of e.violations) console.log(v.invariant, v.message);
 * }
 */
export class PropertyViolation extends Error {
  constructor(readonly violations: readonly Violation[]) {
    super(violations.map((v) => `[${v.invariant}] ${v.message}`).join("\n"));
    this.name = "PropertyViolation";
  }
}

/**
 * The namespace the workload writes (`test.items`, sharded on `_id`, split at 0).
 *
 * @example
 * await sys.conn("mongos0", undefined).runCommand(DATA_DB, { count: DATA_COLL });
 */
export const DATA_DB = "test";
/**
 * DATA_COLL.
 *
 * @example
 * await sys.conn("mongos0", undefined).runCommand(DATA_DB, { find: DATA_COLL, filter: {} });
 */
export const DATA_COLL = "items";

interface SessionSlot {
  id: UUID;
  idHex: string;
}

interface ClientTxn {
  next: number;
  /** The open transaction; `partial` once a statement failed or went unanswered. */
  open?: { txnNumber: number; tag: string; of: number; partial?: boolean };
  /** The last txnNumber a commitTransaction was sent for (a driver refuses to abort it afterwards). */
  commitSent?: number;
}

/**
 * The real side of the model-based test: a cluster, its connections, the client-side state of
 * the workload (session slots, txnNumbers, cursors), the reference model and the continuous
 * invariant monitor. Commands call its methods; after each command `sync` feeds new trace events
 * to the monitor and the model and throws {@link PropertyViolation} on any disagreement.
 *
 * @example
 * const sys = await SimSystem.start({ seed: 1, shards: 2, mongos: 2 });
 * await sys.startSession("s1", "mongos0", undefined);
 * await sys.listLocal("mongos0"); // checked against the model
 * await sys.stop();
 */
export class SimSystem {
  readonly model: SessionModel;
  readonly monitor: InvariantMonitor;
  readonly ctx: InvariantContext;
  /** One log line per command, with its outcome: the scenario as it ran. */
  readonly log: string[] = [];
  private readonly buffer: TraceEvent[] = [];
  private readonly conns = new Map<string, Connection>();
  private readonly slots = new Map<string, SessionSlot>();
  private readonly txns = new Map<string, ClientTxn>();
  private readonly cursors = new Map<string, { id: Long; node: string; openedSeq: number }>();
  private readonly background: { label: string; inflight: InFlight }[] = [];
  private readonly killedAt = new Map<string, number>();
  private docIds = 100;
  private counters = 0;
  private stopped = false;
  private detach: (() => void) | undefined;

  private constructor(
    readonly cluster: Cluster,
    readonly options: ClusterOptions,
    invariants: readonly Invariant[],
    debug?: (line: string) => void,
  ) {
    this.ctx = invariantContext({
      auth: options.auth,
      shards: options.shards,
      parameters: options.parameters,
      observer: { user: "admin", db: "admin" },
      ...(options.killSessionsPatternSemantics === undefined
        ? {}
        : { killSessionsPatternSemantics: options.killSessionsPatternSemantics }),
    });
    this.monitor = new InvariantMonitor(this.ctx, invariants);
    this.model = new SessionModel(
      {
        auth: this.ctx.auth,
        maxSessions: this.ctx.maxSessions,
        timeoutMs: this.ctx.localLogicalSessionTimeoutMinutes * 60_000,
        ...(debug === undefined ? {} : { debug }),
      },
      this.monitor.index,
    );
  }

  /** Starts a cluster with the workload's users and data collection and begins watching it. */
  static async start(
    options: ClusterOptions,
    invariants: readonly Invariant[] = ALL_INVARIANTS,
    debug?: (line: string) => void,
  ): Promise<SimSystem> {
    // The workload's users exist with and without access control (without it they own nothing).
    const users = options.users ?? Object.values(WORKLOAD_USERS);
    const full: ClusterOptions = { clientTimeoutMS: 30_000, ...options, users };
    const cluster = await Cluster.start(full);
    const sys = new SimSystem(cluster, full, invariants, debug);
    const listener = (e: TraceEvent): void => {
      sys.buffer.push(e);
    };
    for (const e of cluster.trace()) sys.buffer.push(e);
    cluster.on("*", listener);
    sys.detach = () => cluster.off("*", listener);
    await sys.setupData();
    sys.sync();
    return sys;
  }

  /** Node name of a {@link NodeRef}. */
  node(ref: string): string {
    const m = /^(mongos|shard|config)(\d+)$/.exec(ref);
    if (m === null) return ref;
    const i = Number(m[2]);
    return m[1] === "mongos"
      ? this.cluster.mongos(i)
      : m[1] === "shard"
        ? this.cluster.shard(i)
        : this.cluster.config();
  }

  private get shards(): number {
    return this.options.shards ?? 2;
  }

  private async setupData(): Promise<void> {
    if (this.shards === 0) return;
    const admin = this.conn("mongos0", "admin");
    await admin.runCommand("admin", { enableSharding: DATA_DB });
    await admin.runCommand("admin", { shardCollection: `${DATA_DB}.${DATA_COLL}`, key: { _id: 1 } });
    if (this.shards >= 2) {
      await admin.runCommand("admin", { split: `${DATA_DB}.${DATA_COLL}`, middle: { _id: 0 } });
      await admin.runCommand("admin", {
        moveChunk: `${DATA_DB}.${DATA_COLL}`,
        find: { _id: -1 },
        to: this.cluster.shardName(0),
      });
      await admin.runCommand("admin", {
        moveChunk: `${DATA_DB}.${DATA_COLL}`,
        find: { _id: 1 },
        to: this.cluster.shardName(1),
      });
    }
    const docs = Array.from({ length: 8 }, (_, i) => ({ _id: i < 4 ? -(i + 1) : i - 3, v: i }));
    await admin.runCommand(DATA_DB, { insert: DATA_COLL, documents: docs });
    // The unsharded collection direct commands on a shard use: more documents than a batch, so a
    // session's find there leaves a cursor open as it does through a mongos.
    for (let i = 0; i < this.shards; i++)
      await this.conn(`shard${i}`, "admin").runCommand(DATA_DB, {
        insert: "local",
        documents: Array.from({ length: 4 }, (_, j) => ({ _id: -(j + 1), v: j })),
      });
  }

  // ---- connections, sessions ------------------------------------------------------------------

  /** The connection to `node` as `user` (one per pair). */
  conn(node: string, user: WorkloadUser): Connection {
    const name = this.node(node);
    const k = `${name}/${user ?? ""}`;
    let c = this.conns.get(k);
    if (c === undefined) {
      c = user === undefined ? this.cluster.connect(name) : this.cluster.connect(name, WORKLOAD_USERS[user]);
      this.conns.set(k, c);
    }
    return c;
  }

  private userRef(user: WorkloadUser): UserRef | undefined {
    return user === undefined ? undefined : { user: WORKLOAD_USERS[user].user, db: WORKLOAD_USERS[user].db };
  }

  /**
   * The session in slot `slot` of `user` (each user has slots of their own), created client-side
   * (a driver-generated id) if the slot is empty.
   */
  slot(slot: string, user: WorkloadUser): SessionSlot {
    const k = `${slot}/${user ?? ""}`;
    let s = this.slots.get(k);
    if (s === undefined) {
      const id = derivedUuid(`${String(this.options.seed ?? 1)}/${k}`);
      s = { id, idHex: uuidHex(id)! };
      this.slots.set(k, s);
    }
    return s;
  }

  /** The session key `slot` names for `user`. */
  key(slot: string, user: WorkloadUser): string {
    return sessionKey(this.slot(slot, user).idHex, uidHex(sessionUid(this.ctx.auth, this.userRef(user))));
  }

  /** The lsid (`{id}`) a client sends for `slot` of `user`. */
  lsidOf(slot: string, user: WorkloadUser): Document {
    return { id: this.slot(slot, user).id };
  }

  private lsid(slot: string, user: WorkloadUser): Document {
    return this.lsidOf(slot, user);
  }

  /** The next txnNumber the client side uses on `slot` of `user` (and reserves it). */
  nextTxnNumber(slot: string, user: WorkloadUser): number {
    return this.txnState(this.key(slot, user)).next++;
  }

  // ---- sending ------------------------------------------------------------------------------

  /** Sends a command, telling the model what it is (unless it never reached the wire). */
  private sendExpecting(conn: Connection, db: string, command: Document, exp: Expectation): InFlight {
    const before = this.buffer.length;
    this.model.expect(conn.clientName, exp);
    const inflight = conn.send(db, command);
    let sent = false;
    for (let i = before; i < this.buffer.length && !sent; i++) {
      const e = this.buffer[i];
      sent = e.type === "net.send" && e.node === conn.clientName;
    }
    if (!sent) this.model.unexpect(conn.clientName, exp);
    return inflight;
  }

  /** Sends a command with what the model should expect of it, and waits for the reply. */
  private async run(
    node: string,
    user: WorkloadUser,
    db: string,
    command: Document,
    exp: Expectation,
  ): Promise<Document | NetworkError> {
    const conn = this.conn(node, user);
    const inflight = this.sendExpecting(conn, db, command, exp);
    try {
      const reply = await this.cluster.wait(inflight);
      if (exp.kind === "startSession" || exp.kind === "listLocal" || exp.kind === "listSessions") exp.reply = reply;
      return reply;
    } catch (e) {
      if (e instanceof NetworkError) return e;
      throw e;
    }
  }

  /** Sends a command and waits at most `maxMs`; if no reply by then it finishes in the background. */
  private async runBounded(
    node: string,
    user: WorkloadUser,
    db: string,
    command: Document,
    exp: Expectation,
    label: string,
    maxMs: number,
  ): Promise<Document | NetworkError | "pending"> {
    // A background command gets a connection of its own, so later commands don't queue behind it.
    const name = this.node(node);
    const conn = user === undefined ? this.cluster.connect(name) : this.cluster.connect(name, WORKLOAD_USERS[user]);
    const inflight = this.sendExpecting(conn, db, command, exp);
    try {
      return await this.cluster.wait(inflight, { maxMs });
    } catch (e) {
      if (e instanceof NetworkError) return e;
      if (!inflight.done) {
        this.background.push({ label, inflight });
        return "pending";
      }
      throw e;
    }
  }

  private outcome(r: Document | NetworkError | "pending"): string {
    if (r === "pending") return "pending";
    if (r instanceof NetworkError) return `NetworkError(${r.kind})`;
    if (r.ok === 1) {
      const we = r.writeErrors;
      return Array.isArray(we) && we.length > 0 ? `ok, writeError ${String((we[0] as Document).codeName)}` : "ok";
    }
    return String(r.codeName);
  }

  private note(line: string, r: Document | NetworkError | string): void {
    const out = typeof r === "string" ? r : this.outcome(r);
    this.log.push(`${formatVirtualTime(this.cluster.now().getTime())} ${line} → ${out}`);
  }

  // ---- session commands ---------------------------------------------------------------------

  async startSession(slot: string, node: NodeRef, user: WorkloadUser): Promise<void> {
    const exp: Expectation = {
      kind: "startSession",
      ...(user === undefined || !this.ctx.auth ? {} : { user: this.userRef(user)! }),
    };
    const r = await this.run(node, user, "admin", { startSession: 1 }, exp);
    if (!(r instanceof NetworkError) && r.ok === 1) {
      const id = (r.id as Document | undefined)?.id as UUID | undefined;
      if (id !== undefined) this.slots.set(`${slot}/${user ?? ""}`, { id, idHex: uuidHex(id)! });
    }
    this.note(`startSession(${slot})@${node}${as(user)}`, r);
  }

  async refreshSessions(slot: string, node: NodeRef, user: WorkloadUser): Promise<void> {
    const r = await this.run(
      node,
      user,
      "admin",
      { refreshSessions: [this.lsid(slot, user)] },
      { kind: "use", keys: [this.key(slot, user)] },
    );
    this.note(`refreshSessions(${slot})@${node}${as(user)}`, r);
  }

  async endSessions(slot: string, node: NodeRef, user: WorkloadUser): Promise<void> {
    const r = await this.run(
      node,
      user,
      "admin",
      { endSessions: [this.lsid(slot, user)] },
      { kind: "endSessions", keys: [this.key(slot, user)] },
    );
    this.note(`endSessions(${slot})@${node}${as(user)}`, r);
  }

  /**
   * A kill command of any form (see {@link KillForm}) sent as `user`; the forms naming one session
   * (`killSessions`, `killAllSessionsByPattern[lsid]`) name slot `slot` of `owner` (default: `user`).
   */
  async kill(
    form: KillForm,
    node: NodeRef,
    user: WorkloadUser,
    slot: string | undefined,
    owner: WorkloadUser = user,
  ): Promise<void> {
    const cmd = this.killCommand(form, slot ?? "s1", owner);
    const r = await this.run(node, user, "admin", cmd, { kind: "other" });
    if (!(r instanceof NetworkError) && r.ok === 1) this.killedAt.set(form, this.monitor.length + this.buffer.length);
    const of = owner === user ? "" : ` of ${owner ?? "nobody"}`;
    this.note(`${describeKill(form, slot)}${of}@${node}${as(user)}`, r);
  }

  private killCommand(form: KillForm, slot: string, owner: WorkloadUser): Document {
    const uid = sessionUid(this.ctx.auth, this.userRef(owner));
    switch (form) {
      case "killSessions":
        return { killSessions: [this.lsid(slot, owner)] };
      case "killSessions[]":
        return { killSessions: [] };
      case "killAllSessions[]":
        return { killAllSessions: [] };
      case "killAllSessions[user]":
        return { killAllSessions: [{ user: "alice", db: "test" }] };
      case "killAllSessionsByPattern[]":
        return { killAllSessionsByPattern: [] };
      case "killAllSessionsByPattern[lsid]":
        return { killAllSessionsByPattern: [{ lsid: { id: this.slot(slot, owner).id, uid } }] };
      case "killAllSessionsByPattern[uid]":
        return { killAllSessionsByPattern: [{ uid }] };
      case "killAllSessionsByPattern[users]":
        return { killAllSessionsByPattern: [{ users: [{ user: "alice", db: "test" }] }] };
    }
  }

  async listLocal(node: NodeRef): Promise<void> {
    const exp: Expectation = { kind: "listLocal" };
    const r = await this.run(
      node,
      this.ctx.auth ? "admin" : undefined,
      "admin",
      { aggregate: 1, pipeline: [{ $listLocalSessions: { allUsers: true } }], cursor: { batchSize: 100_000 } },
      exp,
    );
    this.note(
      `listLocalSessions@${node}`,
      r instanceof NetworkError || r.ok !== 1
        ? r
        : `${((r.cursor as Document).firstBatch as unknown[]).length} sessions`,
    );
  }

  async listSessions(node: NodeRef): Promise<void> {
    const exp: Expectation = { kind: "listSessions" };
    const r = await this.run(
      node,
      this.ctx.auth ? "admin" : undefined,
      "config",
      {
        aggregate: "system.sessions",
        pipeline: [{ $listSessions: { allUsers: true } }],
        cursor: { batchSize: 100_000 },
      },
      exp,
    );
    this.note(
      `listSessions@${node}`,
      r instanceof NetworkError || r.ok !== 1
        ? r
        : `${((r.cursor as Document).firstBatch as unknown[]).length} sessions`,
    );
  }

  async refreshNow(node: NodeRef): Promise<void> {
    const r = await this.run(
      node,
      this.ctx.auth ? "admin" : undefined,
      "admin",
      { refreshLogicalSessionCacheNow: 1 },
      { kind: "other" },
    );
    this.note(`refreshLogicalSessionCacheNow@${node}`, r);
  }

  // ---- CRUD -----------------------------------------------------------------------------------

  /** A CRUD command, with a session (`slot`) or without. */
  async crud(op: CrudOp, slot: string | undefined, node: NodeRef, user: WorkloadUser): Promise<void> {
    const lsid = slot === undefined ? {} : { lsid: this.lsid(slot, user) };
    const exp: Expectation = slot === undefined ? { kind: "other" } : { kind: "use", keys: [this.key(slot, user)] };
    const direct = !node.startsWith("mongos");
    const coll = direct ? "local" : DATA_COLL;
    let cmd: Document;
    switch (op) {
      case "insert":
        cmd = { insert: coll, documents: [{ _id: this.docIds++, v: 0 }], ...lsid };
        break;
      case "find":
        cmd = { find: coll, filter: {}, batchSize: 2, ...lsid };
        break;
      case "update":
        cmd = { update: coll, updates: [{ q: { _id: 1 }, u: { $inc: { v: 1 } } }], ...lsid };
        break;
      case "delete":
        // Never a transaction's document: the data checks count those.
        cmd = { delete: coll, deletes: [{ q: { _id: this.docIds - 1, txn: { $exists: false } }, limit: 1 }], ...lsid };
        break;
      case "count":
        cmd = { count: coll, query: {}, ...lsid };
        break;
    }
    const r = await this.run(node, user, DATA_DB, cmd, exp);
    if (op === "find" && slot !== undefined && !(r instanceof NetworkError) && r.ok === 1) {
      const id = (r.cursor as Document | undefined)?.id;
      if (id instanceof Long && !id.isZero())
        this.cursors.set(this.key(slot, user), {
          id,
          node: this.node(node),
          openedSeq: this.monitor.length + this.buffer.length,
        });
    }
    this.note(`${op}(${slot ?? ""})@${node}${as(user)}`, r);
  }

  /** getMore on the cursor last opened with `slot` (if any). */
  async getMore(slot: string, user: WorkloadUser): Promise<void> {
    const c = this.cursors.get(this.key(slot, user));
    if (c === undefined) {
      this.note(`getMore(${slot})`, "no cursor");
      return;
    }
    const coll = c.node.startsWith("mongos") ? DATA_COLL : "local";
    const r = await this.run(
      c.node,
      user,
      DATA_DB,
      { getMore: c.id, collection: coll, batchSize: 2, lsid: this.lsid(slot, user) },
      { kind: "use", keys: [this.key(slot, user)] },
    );
    if (!(r instanceof NetworkError) && (r.ok !== 1 || String((r.cursor as Document | undefined)?.id) === "0"))
      this.cursors.delete(this.key(slot, user));
    this.note(`getMore(${slot})@${c.node}`, r);
  }

  /**
   * A kill while a session has an open cursor: `find` in slot `slot` of `user` on `node` (small
   * batches, so the cursor stays open on the node and, through a mongos, on the shards), the kill
   * on `killNode` as `killer` naming that session, then `getMore` on the cursor (a killed cursor
   * answers CursorNotFound, the session stays usable). Independent commands seldom leave a cursor
   * open when a kill arrives; this is the case `no-cursor-survives-kill` is about.
   */
  async killOpenCursor(
    slot: string,
    user: WorkloadUser,
    node: NodeRef,
    form: KillForm,
    killNode: NodeRef,
    killer: WorkloadUser,
  ): Promise<void> {
    await this.crud("find", slot, node, user);
    await this.kill(form, killNode, killer, slot, user);
    await this.getMore(slot, user);
  }

  // ---- transactions and retryable writes ------------------------------------------------------

  private txnState(key: string): ClientTxn {
    let t = this.txns.get(key);
    if (t === undefined) this.txns.set(key, (t = { next: 1 }));
    return t;
  }

  /**
   * A transaction on `slot` writing one document on each of `shards` shards, then committed,
   * aborted or left open (`end`). A commit waits at most 5 s of virtual time for its reply (a
   * coordinator held by a failpoint keeps it going in the background).
   */
  async transaction(
    slot: string,
    user: WorkloadUser,
    shardsWanted: number,
    node: NodeRef,
    end: "commit" | "abort" | "open",
  ): Promise<void> {
    const key = this.key(slot, user);
    const t = this.txnState(key);
    const txnNumber = t.next++;
    const of = Math.max(1, Math.min(shardsWanted, this.shards));
    const tag = `${slot}-${uuidHex(this.slot(slot, user).id)!.slice(0, 6)}-${txnNumber}`;
    t.open = { txnNumber, tag, of };
    const base = { lsid: this.lsid(slot, user), txnNumber: Long.fromNumber(txnNumber), autocommit: false };
    const exp = (): Expectation => ({ kind: "use", keys: [key] });
    const outcomes: string[] = [];
    let started = true;
    for (let i = 0; i < of; i++) {
      const id = this.docIds++;
      const doc = { _id: i === 0 ? -id : id, txn: tag, of };
      const cmd = { insert: DATA_COLL, documents: [doc], ...base, ...(i === 0 ? { startTransaction: true } : {}) };
      const r = await this.runBounded(node, user, DATA_DB, cmd, exp(), `txn ${tag}`, 60_000);
      outcomes.push(this.outcome(r));
      if (r === "pending" || r instanceof NetworkError || r.ok !== 1) {
        started = false;
        t.open.partial = true;
        break;
      }
    }
    if (started && end !== "open") {
      const kind = end === "commit" ? "commitTransaction" : "abortTransaction";
      if (end === "commit") t.commitSent = txnNumber;
      const r = await this.runBounded(node, user, "admin", { [kind]: 1, ...base }, exp(), `${kind} ${slot}`, 5_000);
      outcomes.push(`${end} ${this.outcome(r)}`);
      if (r !== "pending") t.open = undefined;
    }
    this.note(
      `transaction(${slot}, ${of} shard${of === 1 ? "" : "s"}, txn ${txnNumber}, ${end})@${node}${as(user)}`,
      outcomes.join(", "),
    );
  }

  /** commitTransaction (or abortTransaction) of `slot`'s open transaction; waits at most 5 s. */
  async endTransaction(
    kind: "commitTransaction" | "abortTransaction",
    slot: string,
    user: WorkloadUser,
    node: NodeRef,
  ): Promise<void> {
    const key = this.key(slot, user);
    const t = this.txnState(key);
    const txnNumber = t.open?.txnNumber ?? Math.max(1, t.next - 1);
    // Committing a transaction some of whose statements may be missing would commit part of its
    // documents (legitimately): the data checks count on all-or-none, so such a transaction is aborted.
    const partial = kind === "commitTransaction" && t.open?.partial === true;
    if (partial) kind = "abortTransaction";
    // Drivers refuse "Cannot call abortTransaction after calling commitTransaction" (transactions
    // spec): MongoDB itself does not, and a raw abort reaching prepared participants after the
    // coordinator decided commit would split the transaction. The workload behaves like a driver.
    if (kind === "abortTransaction" && t.commitSent === txnNumber) {
      this.note(
        `abortTransaction(${slot}, txn ${txnNumber})@${node}${as(user)}`,
        "refused by the driver: already committed",
      );
      return;
    }
    if (kind === "commitTransaction") t.commitSent = txnNumber;
    const cmd = { [kind]: 1, lsid: this.lsid(slot, user), txnNumber: Long.fromNumber(txnNumber), autocommit: false };
    const r = await this.runBounded(node, user, "admin", cmd, { kind: "use", keys: [key] }, `${kind} ${slot}`, 5_000);
    if (r !== "pending") t.open = undefined;
    this.note(
      `${kind}(${slot}, txn ${txnNumber})@${node}${as(user)}${partial ? " (instead of commit: a statement failed)" : ""}`,
      r,
    );
  }

  /**
   * A kill while a cross-shard commit is held between prepare and decision: the coordinator shard
   * (`shard0`, the first one the transaction targets) is stopped by a failpoint, the transaction
   * commits (and waits), the kill runs, the failpoint is turned off.
   */
  async killDuringPrepare(
    slot: string,
    user: WorkloadUser,
    form: KillForm,
    node: NodeRef,
    killer: WorkloadUser,
    failpoint: string,
  ): Promise<void> {
    if (this.shards < 2) return;
    await this.failpoint("shard0", failpoint, "alwaysOn");
    this.log.push(`failpoint(shard0, ${failpoint})`);
    await this.transaction(slot, user, 2, "mongos0", "commit");
    await this.kill(form, node, killer, slot);
    await this.failpoint("shard0", failpoint, "off");
    this.log.push(`failpoint(shard0, ${failpoint}, off)`);
  }

  /**
   * A retryable write (`update` with `lsid` + `txnNumber`, no `autocommit`) pushing its statement id
   * to a counter document, sent `1 + retries` times with the same txnNumber.
   */
  async retryableWrite(
    slot: string,
    user: WorkloadUser,
    counter: number,
    retries: number,
    node: NodeRef,
  ): Promise<void> {
    const key = this.key(slot, user);
    const t = this.txnState(key);
    t.open = undefined;
    const txnNumber = t.next++;
    const stmt = `${uuidHex(this.slot(slot, user).id)!.slice(0, 8)}:${uidHex(sessionUid(this.ctx.auth, this.userRef(user))).slice(0, 4)}:${txnNumber}:0`;
    const cmd = {
      update: DATA_COLL,
      updates: [{ q: { _id: `ctr-${counter}` }, u: { $inc: { n: 1 }, $push: { ops: stmt } }, upsert: true }],
      lsid: this.lsid(slot, user),
      txnNumber: Long.fromNumber(txnNumber),
    };
    const outcomes: string[] = [];
    for (let i = 0; i <= retries; i++) {
      const r = await this.run(node, user, DATA_DB, cmd, { kind: "use", keys: [key] });
      outcomes.push(this.outcome(r));
    }
    this.counters = Math.max(this.counters, counter);
    this.note(
      `retryableWrite(${slot}, ctr-${counter}, txn ${txnNumber}${retries > 0 ? `, ×${retries + 1}` : ""})@${node}${as(user)}`,
      outcomes.join(", "),
    );
  }

  // ---- time and faults ------------------------------------------------------------------------

  async advance(ms: number): Promise<void> {
    await this.cluster.advance(ms);
    this.note(`advance(${ms})`, "ok");
  }

  crash(node: NodeRef): void {
    this.cluster.crash(this.node(node));
  }

  async restart(node: NodeRef): Promise<void> {
    await this.cluster.restart(this.node(node));
  }

  partition(a: readonly NodeRef[], b: readonly NodeRef[], oneWay: boolean): void {
    const an = a.map((x) => this.node(x));
    const bn = b.map((x) => this.node(x));
    if (oneWay) this.cluster.partitionOneWay(an, bn);
    else this.cluster.partition(an, bn);
  }

  heal(): void {
    this.cluster.heal();
  }

  /** Sets a failpoint through the kernel (works on partitioned nodes too; skipped on crashed ones). */
  async failpoint(
    node: NodeRef,
    name: string,
    mode: "alwaysOn" | "off" | { times: number },
    data: Document = {},
  ): Promise<void> {
    this.cluster.applyFaults([{ at: 0, kind: "failpoint", node: this.node(node), name, mode, data }]);
    this.cluster.note(
      `failpoint ${name} ${typeof mode === "string" ? mode : JSON.stringify(mode)} on ${this.node(node)}`,
    );
    await this.cluster.advance(0);
  }

  // ---- checking -------------------------------------------------------------------------------

  /** Feeds new trace events to the monitor and the model; throws on any violation. */
  sync(): void {
    const events = this.buffer.splice(0, this.buffer.length);
    for (const e of events) {
      this.monitor.add(e);
      this.model.add(e, true);
    }
    const violations: Violation[] = [...this.monitor.violations, ...this.model.violations.map(modelViolation)];
    if (violations.length > 0) throw new PropertyViolation(violations);
  }

  /** Stops faults, lets the cluster settle and runs the liveness invariants; throws on violations. */
  async finish(invariants: readonly Invariant[] = ALL_INVARIANTS): Promise<void> {
    this.sync();
    // Background commands (e.g. a commit held by a failpoint) complete once faults stop.
    const stoppedAt = await stopFaults(this.cluster);
    this.sync();
    const liveness = await checkLiveness(this.cluster, this.ctx, stoppedAt, invariants, () => {
      this.sync();
      return this.monitor.index;
    });
    this.sync();
    if (liveness.length > 0) throw new PropertyViolation(liveness);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.detach?.();
    await this.cluster.stop();
  }
}

function modelViolation(v: ModelViolation): Violation {
  return {
    invariant: "sessions-match-model",
    kind: "safety",
    message: v.message,
    time: v.time,
    node: v.node,
    events: v.events,
  };
}

function as(user: WorkloadUser): string {
  return user === undefined ? "" : ` as ${user}`;
}

/**
 * The CRUD operations of the workload.
 *
 * @example
 * const op: CrudOp = "find";
 * await sys.crud(op, "s1", "mongos0", undefined);
 */
export type CrudOp = "insert" | "find" | "update" | "delete" | "count";

/**
 * Every form of kill command the workload sends.
 *
 * @example
 * const form: KillForm = "killAllSessions[]";
 * await sys.kill(form, "mongos0", "admin", "s1");
 */
export type KillForm =
  | "killSessions"
  | "killSessions[]"
  | "killAllSessions[]"
  | "killAllSessions[user]"
  | "killAllSessionsByPattern[]"
  | "killAllSessionsByPattern[lsid]"
  | "killAllSessionsByPattern[uid]"
  | "killAllSessionsByPattern[users]";

/**
 * Every kill form, for arbitraries.
 *
 * @example
 * fc.constantFrom(...KILL_FORMS).map((f) => new KillCommand(f, "s1", "mongos0", undefined));
 */
export const KILL_FORMS: readonly KillForm[] = [
  "killSessions",
  "killSessions[]",
  "killAllSessions[]",
  "killAllSessions[user]",
  "killAllSessionsByPattern[]",
  "killAllSessionsByPattern[lsid]",
  "killAllSessionsByPattern[uid]",
  "killAllSessionsByPattern[users]",
];

/**
 * A kill form as a log line fragment: `killSessions(s1)`, `killAllSessions([])`.
 *
 * @example
 * describeKill("killSessions", "s2"); // "killSessions(s2)"
 * describeKill("killAllSessions[]", undefined); // "killAllSessions([])"
 */
export function describeKill(form: KillForm, slot: string | undefined): string {
  switch (form) {
    case "killSessions":
      return `killSessions(${slot ?? "s1"})`;
    case "killAllSessionsByPattern[lsid]":
      return `killAllSessionsByPattern(lsid ${slot ?? "s1"})`;
    default: {
      const m = /^(\w+)\[(.*)\]$/.exec(form)!;
      return `${m[1]}(${m[2] === "" ? "[]" : m[2]})`;
    }
  }
}
