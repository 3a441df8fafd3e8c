/**
 * Reading trace events loosely. The report must work on any trace — including ones recorded by a
 * newer server with event types it does not know, or loaded back from JSON by `replay` — so it
 * reads fields by name and checks their types instead of relying on the `TraceEvent` union.
 */

/** What every trace event has (see the kernel's `TraceBase`). */
export interface EventLike {
  readonly time: number;
  readonly seq: number;
  readonly node: string;
  readonly type: string;
}

/** A trace event whose other fields are read by name. */
export type AnyEvent = EventLike & { readonly [field: string]: unknown };

/** The trace as the report reads it. */
export function asEvents(trace: readonly EventLike[]): readonly AnyEvent[] {
  return trace as readonly AnyEvent[];
}

export function str(e: AnyEvent, field: string): string | undefined {
  const v = e[field];
  return typeof v === "string" ? v : undefined;
}

export function num(e: AnyEvent, field: string): number | undefined {
  const v = e[field];
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  return undefined;
}

/** A count field that may also be given as a list (its length). */
export function count(e: AnyEvent, field: string): number | undefined {
  const v = e[field];
  if (Array.isArray(v)) return v.length;
  return num(e, field);
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const HEX = "0123456789abcdef";

function hexOf(bytes: ArrayLike<number>): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i] >> 4] + HEX[bytes[i] & 15];
  return s;
}

function dashed(hex32: string): string {
  return `${hex32.slice(0, 8)}-${hex32.slice(8, 12)}-${hex32.slice(12, 16)}-${hex32.slice(16, 20)}-${hex32.slice(20)}`;
}

/**
 * A session UUID as lowercase hex with dashes, from whatever form it takes in a trace: the string
 * itself, a bson `UUID`/`Binary` (subtype 4), extended JSON (`{$uuid}`, `{$binary}`), or an lsid
 * document `{id, uid}`.
 */
export function uuidString(v: unknown): string | undefined {
  if (typeof v === "string") {
    const hex = v.toLowerCase().replace(/-/g, "");
    return /^[0-9a-f]{32}$/.test(hex) ? dashed(hex) : undefined;
  }
  if (!isRecord(v)) return undefined;
  if (typeof v.toHexString === "function") {
    const s = (v.toHexString as (this: unknown) => unknown).call(v);
    return typeof s === "string" ? uuidString(s) : undefined;
  }
  if (v.buffer instanceof Uint8Array && v.buffer.length === 16) return dashed(hexOf(v.buffer));
  if (typeof v.$uuid === "string") return uuidString(v.$uuid);
  if (isRecord(v.$binary) && typeof v.$binary.base64 === "string")
    return dashed(hexOf(Buffer.from(v.$binary.base64, "base64")));
  if ("id" in v) return uuidString(v.id);
  return undefined;
}

/** The session id of an lsid given as a string, a UUID, or an `{id, uid}` document. */
export function lsidOf(v: unknown): string | undefined {
  return uuidString(v);
}

/** Short form of a session id for labels: its first 8 hex digits. */
export function shortId(id: string): string {
  return id.slice(0, 8);
}

/**
 * A JSON-safe copy of a value for display: bson types become mongosh-like strings
 * (`UUID("…")`, `Long("5")`, `Timestamp({ t, i })`, `BinData(0, "…")`), long arrays and deep
 * nesting are cut so one huge command cannot bloat the page.
 */
export function toPlain(v: unknown, depth = 0): unknown {
  if (v === null || typeof v === "boolean" || typeof v === "string") return v;
  if (typeof v === "number") return Number.isFinite(v) ? v : String(v);
  if (typeof v === "bigint") return `Long("${v}")`;
  if (v === undefined) return "undefined";
  if (typeof v !== "object") return String(v);
  if (depth > 12) return "…";
  if (v instanceof Date) return `ISODate("${Number.isNaN(v.getTime()) ? "invalid" : v.toISOString()}")`;
  if (v instanceof Uint8Array) return `BinData(0, "${Buffer.from(v).toString("base64")}")`;
  if (Array.isArray(v)) {
    const shown = v.slice(0, 50).map((x) => toPlain(x, depth + 1));
    if (v.length > 50) shown.push(`… ${v.length - 50} more`);
    return shown;
  }
  const r = v as Record<string, unknown>;
  const bsontype = r._bsontype;
  if (typeof bsontype === "string") return bsonToString(bsontype, r);
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const [k, x] of Object.entries(r)) {
    if (x === undefined) continue;
    if (++n > 100) {
      out["…"] = `${Object.keys(r).length - 100} more fields`;
      break;
    }
    out[k] = toPlain(x, depth + 1);
  }
  return out;
}

function bsonToString(type: string, v: Record<string, unknown>): string {
  switch (type) {
    case "Binary": {
      const uuid = v.sub_type === 4 ? uuidString(v) : undefined;
      if (uuid !== undefined) return `UUID("${uuid}")`;
      const bytes = v.buffer instanceof Uint8Array ? v.buffer : new Uint8Array();
      const len = typeof v.position === "number" ? v.position : bytes.length;
      return `BinData(${String(v.sub_type)}, "${Buffer.from(bytes.subarray(0, len)).toString("base64")}")`;
    }
    case "ObjectId":
      return `ObjectId("${typeof v.toHexString === "function" ? String((v.toHexString as () => unknown).call(v)) : "?"}")`;
    case "Long":
    case "Int32":
    case "Double":
    case "Decimal128":
      return `${type === "Long" ? "Long" : type}("${String(v)}")`;
    case "Timestamp":
      return `Timestamp({ t: ${String(v.t ?? v.high)}, i: ${String(v.i ?? v.low)} })`;
    default:
      return `${type}(${String(v)})`;
  }
}
