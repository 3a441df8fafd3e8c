import { Binary, type Document, type TraceEvent } from "sessionsim";
import { numberOf, sessionKey, sessionUid, uidHex, uuidHex } from "./util.js";

/**
 * What a request on the simulated network carries (`{db, command, user?, internal?}`).
 *
 * @example
 * const body = event.payload as RequestBody; // a net.send of a command
 * console.log(body.db, Object.keys(body.command)[0], body.user?.user);
 */
export interface RequestBody {
  readonly db: string;
  readonly command: Document;
  readonly user?: { readonly user: string; readonly db: string };
  readonly internal?: boolean;
}

/**
 * One command request seen on the wire (client or internal), with its outcome once known.
 *
 * @example
 * for (const r of index.requests) if (r.fromClient && r.replies.some((e) => e.type === "cmd.reply" && !e.ok)) console.log(r.name);
 */
export interface RequestRecord {
  readonly msgId: number;
  readonly from: string;
  readonly to: string;
  readonly name: string;
  readonly body: RequestBody;
  readonly sendEvent: TraceEvent;
  /** Whether the sender is a client endpoint (`clientN`). */
  readonly fromClient: boolean;
  /** The session key the request's `lsid` names, if any (uid computed as the server would). */
  readonly lsidKey?: string;
  readonly txnNumber?: number;
  /** Deliveries (more than one if the network duplicated the message). */
  readonly deliveries: TraceEvent[];
  /** The node's `cmd.reply` for each processed delivery. */
  readonly replies: TraceEvent[];
  /** Whether the network duplicated the request (it may run twice; the client sees one reply). */
  duplicated?: boolean;
}

/**
 * Event field access for the loosely-typed server events (the union grows as the server does).
 *
 * @internal Not exported from the package.
 */
export function field<T = unknown>(e: TraceEvent, name: string): T | undefined {
  return (e as unknown as Record<string, T>)[name];
}

const UUID_RE = /[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}/i;

/**
 * The session id (32 hex digits) in an event's `lsid` field, whatever its form (a UUID string, a
 * formatted lsid, an `{id, uid}` document).
 *
 * @example
 * lsidIdOf("6f1a3c4e-2b7d-4e59-9a1c-0d2e3f405162"); // "6f1a3c4e2b7d4e599a1c0d2e3f405162"
 */
export function lsidIdOf(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") {
    const m = UUID_RE.exec(v);
    return m === null ? undefined : m[0].replaceAll("-", "").toLowerCase();
  }
  if (v instanceof Binary) return uuidHex(v);
  if (typeof v === "object" && "id" in v) return lsidIdOf(v.id);
  return undefined;
}

/**
 * MongoDB's participant transaction states, normalised (`kPrepared` / `prepared` → `prepared`).
 *
 * @example
 * const s: TxnState | undefined = normalizeTxnState("AbortedWithPrepare"); // "abortedWithPrepare"
 */
export type TxnState =
  | "none"
  | "inProgress"
  | "prepared"
  | "committed"
  | "abortedWithoutPrepare"
  | "abortedWithPrepare"
  | "executedRetryableWrite";

/**
 * Normalises a transaction state name as the server traces it.
 *
 * @example
 * normalizeTxnState("kPrepared"); // "prepared"
 * normalizeTxnState("InProgress"); // "inProgress"
 */
export function normalizeTxnState(s: unknown): TxnState | undefined {
  if (typeof s !== "string") return undefined;
  let t = s.replace(/^k(?=[A-Z])/, "");
  t = t.charAt(0).toLowerCase() + t.slice(1);
  switch (t) {
    case "none":
    case "inProgress":
    case "prepared":
    case "committed":
    case "abortedWithoutPrepare":
    case "abortedWithPrepare":
    case "executedRetryableWrite":
      return t;
    case "aborted":
      return "abortedWithoutPrepare";
    default:
      return undefined;
  }
}

/**
 * True for the aborted states.
 *
 * @internal Not exported from the package.
 */
export function isAborted(s: TxnState | undefined): boolean {
  return s === "abortedWithoutPrepare" || s === "abortedWithPrepare";
}

/**
 * Commands that never attach their `lsid` to the operation (the kill commands).
 *
 * @internal Not exported from the package.
 */
export const NON_ATTACHING_COMMANDS: ReadonlySet<string> = new Set([
  "killSessions",
  "killAllSessions",
  "killAllSessionsByPattern",
]);

/**
 * The session key an lsid document names for a caller (the server computes `uid` unless given).
 *
 * @internal Not exported from the package.
 */
export function lsidKeyFor(
  lsid: unknown,
  auth: boolean,
  user: RequestBody["user"],
  internal: boolean,
): string | undefined {
  if (lsid === null || typeof lsid !== "object" || Array.isArray(lsid)) return undefined;
  const doc = lsid as Document;
  const id = uuidHex(doc.id);
  if (id === undefined || id.length !== 32) return undefined;
  if (doc.uid instanceof Binary) return sessionKey(id, uidHex(doc.uid));
  if (internal) return undefined;
  return sessionKey(id, uidHex(sessionUid(auth, user)));
}

/**
 * An incremental index over a run's trace: every command request with its deliveries and replies,
 * which node is up, crashes and restarts. Invariants and the reference model read it instead of
 * each re-scanning the trace. Feed events in order with {@link TraceIndex.add}.
 *
 * @example
 * const index = new TraceIndex({ auth: false });
 * for (const e of cluster.trace()) index.add(e);
 * index.requests.filter((r) => r.name === "endSessions");
 */
export class TraceIndex {
  /** Every request, in send order. */
  readonly requests: RequestRecord[] = [];
  readonly byMsgId = new Map<number, RequestRecord>();
  /** Per `node\0client`: deliveries awaiting their `cmd.reply`, in order. */
  private readonly awaiting = new Map<string, RequestRecord[]>();
  /** Node incarnations (bumped by crashes). */
  readonly incarnation = new Map<string, number>();
  readonly down = new Set<string>();
  /** Per node: clock offset and drift as last set. */
  readonly clocks = new Map<string, { offsetMs: number; driftPpm: number; at: number }>();
  /** The largest absolute clock offset ever set (ms), for tolerances. */
  maxClockOffsetMs = 0;
  lastTime = 0;
  /** Per session id (32 hex): the uids requests named it with (more than one: several users' sessions share the id). */
  readonly uidsOfId = new Map<string, Set<string>>();
  /** Whether some node refused a command with TooManyLogicalSessions (a full session cache). */
  sawTooManyLogicalSessions = false;
  /** The request the last added event concerned (its send, a delivery or its reply), if any. */
  lastRequest: RequestRecord | undefined;

  constructor(readonly options: { readonly auth: boolean }) {}

  /** Adds the next event; returns the request it concerns, if any. */
  add(e: TraceEvent): RequestRecord | undefined {
    this.lastRequest = this.index(e);
    return this.lastRequest;
  }

  private index(e: TraceEvent): RequestRecord | undefined {
    this.lastTime = e.time;
    switch (e.type) {
      case "net.send": {
        const body = e.payload as RequestBody | undefined;
        if (
          body === undefined ||
          body === null ||
          typeof body !== "object" ||
          typeof body.command !== "object" ||
          body.command === null
        )
          return undefined;
        const name = Object.keys(body.command)[0] ?? "";
        const fromClient = e.node.startsWith("client");
        const lsidKey = lsidKeyFor(body.command.lsid, this.options.auth, body.user, body.internal === true);
        const txnNumber = numberOf(body.command.txnNumber);
        const rec: RequestRecord = {
          msgId: e.msgId,
          from: e.node,
          to: e.to,
          name,
          body,
          sendEvent: e,
          fromClient,
          ...(lsidKey === undefined ? {} : { lsidKey }),
          ...(txnNumber === undefined ? {} : { txnNumber }),
          deliveries: [],
          replies: [],
        };
        this.requests.push(rec);
        this.byMsgId.set(e.msgId, rec);
        if (lsidKey !== undefined) {
          const [id, uid] = lsidKey.split(":");
          let set = this.uidsOfId.get(id);
          if (set === undefined) this.uidsOfId.set(id, (set = new Set()));
          set.add(uid);
        }
        return rec;
      }
      case "net.deliver": {
        if (e.label.endsWith(":reply")) return undefined;
        const rec = this.byMsgId.get(e.msgId);
        if (rec === undefined || rec.to !== e.node) return undefined;
        rec.deliveries.push(e);
        const k = `${e.node}\u0000${e.from}`;
        let q = this.awaiting.get(k);
        if (q === undefined) this.awaiting.set(k, (q = []));
        q.push(rec);
        return rec;
      }
      case "cmd.reply": {
        if (e.codeName === "TooManyLogicalSessions") this.sawTooManyLogicalSessions = true;
        const k = `${e.node}\u0000${e.client}`;
        const q = this.awaiting.get(k);
        if (q === undefined) return undefined;
        const i = q.findIndex((r) => r.name === e.command);
        if (i < 0) return undefined;
        const [rec] = q.splice(i, 1);
        rec.replies.push(e);
        return rec;
      }
      case "net.duplicate": {
        const rec = this.byMsgId.get(e.msgId);
        if (rec !== undefined) rec.duplicated = true;
        return rec;
      }
      case "node.crash": {
        this.down.add(e.node);
        this.incarnation.set(e.node, (this.incarnation.get(e.node) ?? 0) + 1);
        // Operations in flight on the node die with it.
        for (const [k, q] of this.awaiting) if (k.startsWith(`${e.node}\u0000`)) q.length = 0;
        return undefined;
      }
      case "node.restart":
        this.down.delete(e.node);
        return undefined;
      case "clock.set":
        this.clocks.set(e.node, { offsetMs: e.offsetMs, driftPpm: e.driftPpm, at: e.time });
        this.maxClockOffsetMs = Math.max(this.maxClockOffsetMs, Math.abs(e.offsetMs));
        return undefined;
      default:
        return undefined;
    }
  }

  /** Whether a session id names more than one session (several users used it). */
  ambiguous(id: string): boolean {
    return (this.uidsOfId.get(id)?.size ?? 0) > 1;
  }

  /** A node's clock reading at true time `t` (as the kernel computes it). */
  nodeClock(node: string, t: number): number {
    const c = this.clocks.get(node);
    if (c === undefined) return t;
    return t + c.offsetMs + ((t - c.at) * c.driftPpm) / 1e6;
  }

  /** Requests in flight at node `node` (delivered, not yet answered). */
  inFlightAt(node: string): RequestRecord[] {
    const out: RequestRecord[] = [];
    for (const [k, q] of this.awaiting) if (k.startsWith(`${node}\u0000`)) out.push(...q);
    return out;
  }
}
