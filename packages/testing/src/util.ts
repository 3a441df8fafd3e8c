import { createHash } from "node:crypto";
import { Binary, UUID, type Document } from "sessionsim";

/**
 * The simulation epoch (virtual time 0): 2026-01-01T00:00:00Z.
 *
 * @internal Not exported from the package.
 */
export const SIMULATION_EPOCH = Date.UTC(2026, 0, 1);

/**
 * A duration as a short log-friendly string: `250ms`, `5s`, `5m`, `1h30m`.
 *
 * @example
 * formatDuration(300_000); // "5m"
 */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms % 1000 !== 0) return `${(ms / 1000).toFixed(1)}s`;
  const s = ms / 1000;
  if (s < 60) return `${s}s`;
  if (s % 60 !== 0) return `${Math.floor(s / 60)}m${s % 60}s`;
  const m = s / 60;
  if (m < 60) return `${m}m`;
  return m % 60 === 0 ? `${m / 60}h` : `${Math.floor(m / 60)}h${m % 60}m`;
}

/**
 * Virtual time since the epoch as `+MM:SS` (or `+H:MM:SS` beyond an hour), for log lines.
 *
 * @example
 * formatVirtualTime(SIMULATION_EPOCH + 65_000); // "+01:05"
 */
export function formatVirtualTime(time: number): string {
  const total = Math.floor((time - SIMULATION_EPOCH) / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(2, "0");
  const ss = String(s).padStart(2, "0");
  return h > 0 ? `+${h}:${mm}:${ss}` : `+${mm}:${ss}`;
}

/** SHA-256 of `text` as 32 bytes. */
function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/**
 * The `uid` MongoDB computes for a session: SHA-256 of `"user@db"`, or of `""` when access control
 * is off or nobody is authenticated (`kNoAuthDigest`).
 *
 * @remarks `getLogicalSessionUserDigestForLoggedInUser` in `logical_session_id_helpers.cpp`.
 * @example
 * const uid = sessionUid(true, { user: "alice", db: "test" });
 */
export function sessionUid(auth: boolean, user: { readonly user: string; readonly db: string } | undefined): Binary {
  const text = auth && user !== undefined ? `${user.user}@${user.db}` : "";
  return new Binary(new Uint8Array(sha256(text)), 0);
}

/**
 * Hex of a uid (Binary), for keys.
 *
 * @example
 * uidHex(sessionUid(true, { user: "alice", db: "test" })); // 64 hex digits
 */
export function uidHex(uid: Binary | Uint8Array): string {
  const bytes = uid instanceof Uint8Array ? uid : uid.buffer.subarray(0, uid.position);
  return Buffer.from(bytes).toString("hex");
}

/**
 * The hex of a `UUID`/`Binary` subtype 4 (no dashes), or undefined.
 *
 * @internal Not exported from the package.
 */
export function uuidHex(v: unknown): string | undefined {
  if (v instanceof Binary) return Buffer.from(v.buffer.subarray(0, v.position)).toString("hex");
  if (typeof v === "string") return v.replaceAll("-", "").toLowerCase();
  return undefined;
}

/**
 * The key this package uses for a session: `<id hex>:<uid hex>` (MongoDB's identity is `(id, uid)`).
 *
 * @example
 * sessionKey("6f1a3c4e2b7d4e599a1c0d2e3f405162", uidHex(sessionUid(false, undefined)));
 */
export function sessionKey(idHex: string, uid: string): string {
  return `${idHex}:${uid}`;
}

/**
 * The id part of a session key.
 *
 * @internal Not exported from the package.
 */
export function keyId(key: string): string {
  return key.slice(0, key.indexOf(":"));
}

/**
 * A deterministic UUID derived from text (for client-generated lsids: drivers make v4 UUIDs; a
 * simulation needs them reproducible).
 *
 * @example
 * const id = derivedUuid("seed 7/s1"); // always the same UUID for the same text
 */
export function derivedUuid(text: string): UUID {
  const b = sha256(text).subarray(0, 16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  return new UUID(new Uint8Array(b));
}

/**
 * The session key of a `{_id: {id, uid}}` record or an lsid `{id, uid}`.
 *
 * @example
 * const keys = records.map((r) => keyOfRecord(r)); // "<id hex>:<uid hex>" each
 */
export function keyOfRecord(doc: Document): string | undefined {
  const idDoc = (doc._id ?? doc) as Document | undefined;
  if (idDoc === undefined || idDoc === null || typeof idDoc !== "object") return undefined;
  const id = uuidHex(idDoc.id);
  const uid = idDoc.uid instanceof Binary ? uidHex(idDoc.uid) : undefined;
  if (id === undefined || uid === undefined) return undefined;
  return sessionKey(id, uid);
}

/**
 * The documents of a cursor reply's first batch (empty if the reply has none).
 *
 * @example
 * const docs = firstBatch(await conn.runCommand("test", { find: "items", filter: {} }));
 */
export function firstBatch(reply: Document): Document[] {
  const cursor = reply.cursor as Document | undefined;
  const batch = cursor?.firstBatch;
  return Array.isArray(batch) ? (batch as Document[]) : [];
}

/**
 * A stable, short JSON-ish rendering of a value for log lines (BSON values as their strings).
 *
 * @internal Not exported from the package.
 */
export function brief(v: unknown, max = 120): string {
  let s: string;
  try {
    s = JSON.stringify(v, (_k, x: unknown) => {
      if (typeof x === "bigint") return `${x}n`;
      if (typeof x === "number" && !Number.isFinite(x)) return String(x);
      if (x instanceof Binary) return `BinData(${x.sub_type},${uidHex(x).slice(0, 8)}…)`;
      return x;
    });
  } catch {
    s = String(v);
  }
  if (s === undefined) s = String(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/**
 * Reads a numeric field that may be a number, a bigint or a bson Long/Int32/Double.
 *
 * @internal Not exported from the package.
 */
export function numberOf(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (v !== null && typeof v === "object" && "toNumber" in v && typeof v.toNumber === "function")
    return (v as { toNumber(): number }).toNumber();
  if (v !== null && typeof v === "object" && "valueOf" in v) {
    const n = (v as { valueOf(): unknown }).valueOf();
    if (typeof n === "number") return n;
  }
  if (typeof v === "string" && /^-?\d+$/.test(v)) return Number(v);
  return undefined;
}
