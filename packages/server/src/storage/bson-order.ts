/**
 * MongoDB's total order over BSON values (`BSONElement::compareElements` and
 * `BSONObj::woCompare` in `src/mongo/bson/bsonelement.cpp` / `bsonobj.cpp`).
 *
 * @packageDocumentation
 */
import { CanonicalType, binDataParts, bsonTag, canonicalType, toDouble, type CanonicalTypeRank } from "./bson-types.js";

const sign = (x: number): number => (x < 0 ? -1 : x > 0 ? 1 : 0);

/**
 * Compares strings by their UTF-8 bytes (= code point order), as MongoDB does without a collation.
 * JS `<` compares UTF-16 code units, which differs for supplementary characters.
 */
function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // Surrogates (U+10000 and up) sort after U+E000..U+FFFF in code point order.
      x = x < 0xe000 ? x + 0x2000 : x - 0x800;
      y = y < 0xe000 ? y + 0x2000 : y - 0x800;
    }
    return x < y ? -1 : 1;
  }
  return sign(a.length - b.length);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return sign(a.length - b.length);
}

const TWO63 = 2 ** 63;

/** Numeric comparison across double, int32, Long (exact) and Decimal128 (as double); NaN is least. */
function compareNumbers(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") {
    if (a < b) return -1;
    if (a > b) return 1;
    if (a === b) return 0;
    return Number.isNaN(a) ? (Number.isNaN(b) ? 0 : -1) : 1;
  }
  const la = bigIntOf(a);
  const lb = bigIntOf(b);
  if (la !== undefined && lb !== undefined) return la < lb ? -1 : la > lb ? 1 : 0;
  const x = toDouble(a);
  const y = toDouble(b);
  if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) ? (Number.isNaN(y) ? 0 : -1) : 1;
  return sign(x - y);
}

/** An exact integer view of Long/bigint/integral doubles (within int64), else undefined. */
function bigIntOf(v: unknown): bigint | undefined {
  if (typeof v === "number") {
    return Number.isInteger(v) && Math.abs(v) <= TWO63 ? BigInt(v) : undefined;
  }
  if (typeof v === "bigint") return v;
  const tag = typeof v === "object" && v !== null ? bsonTag(v) : undefined;
  if (tag === "Long") return BigInt((v as { toString(): string }).toString());
  if (tag === "Int32") return BigInt((v as { value: number }).value);
  if (tag === "Double") return bigIntOf((v as { value: number }).value);
  return undefined;
}

function compareObjects(a: Record<string, unknown>, b: Record<string, unknown>): number {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  const n = Math.min(ka.length, kb.length);
  for (let i = 0; i < n; i++) {
    const va = a[ka[i]];
    const vb = b[kb[i]];
    const t = canonicalType(va) - canonicalType(vb);
    if (t !== 0) return sign(t);
    const f = compareStrings(ka[i], kb[i]);
    if (f !== 0) return f;
    const c = compareSameType(va, vb, canonicalType(va));
    if (c !== 0) return c;
  }
  return sign(ka.length - kb.length);
}

function compareArrays(a: readonly unknown[], b: readonly unknown[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareBson(a[i], b[i]);
    if (c !== 0) return c;
  }
  return sign(a.length - b.length);
}

function timestampParts(v: unknown): [number, number] {
  const ts = v as { t: number; i: number };
  return [ts.t, ts.i];
}

function regexParts(v: unknown): [string, string] {
  if (v instanceof RegExp) return [v.source, v.flags];
  const r = v as { pattern: string; options: string };
  return [r.pattern, r.options];
}

function compareSameType(a: unknown, b: unknown, t: CanonicalTypeRank): number {
  switch (t) {
    case CanonicalType.MinKey:
    case CanonicalType.MaxKey:
    case CanonicalType.Missing:
    case CanonicalType.Null:
      return 0;
    case CanonicalType.Number:
      return compareNumbers(a, b);
    case CanonicalType.String:
      return compareStrings(String(a), String(b));
    case CanonicalType.Object:
      return compareObjects(a as Record<string, unknown>, b as Record<string, unknown>);
    case CanonicalType.Array:
      return compareArrays(a as unknown[], b as unknown[]);
    case CanonicalType.BinData: {
      const x = binDataParts(a as object);
      const y = binDataParts(b as object);
      if (x.bytes.length !== y.bytes.length) return sign(x.bytes.length - y.bytes.length);
      if (x.subType !== y.subType) return sign(x.subType - y.subType);
      return compareBytes(x.bytes, y.bytes);
    }
    case CanonicalType.ObjectId:
      return compareStrings(
        (a as { toHexString(): string }).toHexString(),
        (b as { toHexString(): string }).toHexString(),
      );
    case CanonicalType.Boolean:
      return a === b ? 0 : a ? 1 : -1;
    case CanonicalType.Date:
      return compareNumbers((a as Date).getTime(), (b as Date).getTime());
    case CanonicalType.Timestamp: {
      const [ta, ia] = timestampParts(a);
      const [tb, ib] = timestampParts(b);
      return ta !== tb ? sign(ta - tb) : sign(ia - ib);
    }
    case CanonicalType.RegEx: {
      const [pa, fa] = regexParts(a);
      const [pb, fb] = regexParts(b);
      return compareStrings(pa, pb) || compareStrings(fa, fb);
    }
    default:
      return compareStrings(String(a), String(b));
  }
}

/**
 * Compares two BSON values in MongoDB's order: MinKey < missing < null < numbers < strings <
 * objects < arrays < BinData < ObjectId < booleans < dates < timestamps < regexes < MaxKey.
 *
 * @remarks Numbers of all types (double, int, Long, Decimal128) compare by value (Long exactly);
 * NaN sorts below every other number. Strings compare by code point (no collation). Objects
 * compare field by field (type, then name, then value). BinData compares by length, then subtype,
 * then bytes; a `UUID` is BinData subtype 4. Dates compare by milliseconds, Timestamps by
 * (t, i). Returns -1, 0 or 1.
 *
 * @example
 * ```ts
 * compareBson(1, Long.fromNumber(1)); // 0
 * compareBson("z", {}); // -1: strings sort before objects
 * ```
 */
export function compareBson(a: unknown, b: unknown): number {
  if (a === b) return 0;
  const ta = canonicalType(a);
  const tb = canonicalType(b);
  if (ta !== tb) return ta < tb ? -1 : 1;
  return compareSameType(a, b, ta);
}

function bytesEqual(a: Uint8Array, b: Uint8Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * BSON equality: `compareBson(a, b) === 0` (so `1`, `1.0` and `Long(1)` are equal, and a `UUID`
 * equals a subtype-4 `Binary` with the same bytes). Field order matters, as in BSON.
 *
 * @remarks Fast paths for the shapes on the hot path (plain documents, arrays, Binary, Date);
 * everything else goes through {@link compareBson}.
 */
export function bsonEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === "object" && a !== null && typeof b === "object" && b !== null) return objectsEqual(a, b);
  const t = typeof a;
  if (t === typeof b && t !== "object") return t === "number" && Number.isNaN(a) && Number.isNaN(b);
  return compareBson(a, b) === 0;
}

function objectsEqual(a: object, b: object): boolean {
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!bsonEquals(a[i], b[i])) return false;
    return true;
  }
  const pa: unknown = Object.getPrototypeOf(a);
  if (pa === Object.prototype && Object.getPrototypeOf(b) === Object.prototype) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    for (let i = 0; i < ka.length; i++) {
      if (ka[i] !== kb[i]) return false;
      if (!bsonEquals((a as Record<string, unknown>)[ka[i]], (b as Record<string, unknown>)[kb[i]])) return false;
    }
    return true;
  }
  const tag = bsonTag(a);
  if (tag === "Binary" && bsonTag(b) === "Binary") {
    const x = a as { buffer: Uint8Array; position: number; sub_type: number };
    const y = b as { buffer: Uint8Array; position: number; sub_type: number };
    return x.position === y.position && x.sub_type === y.sub_type && bytesEqual(x.buffer, y.buffer, x.position);
  }
  if (a instanceof Date && b instanceof Date) {
    const x = a.getTime();
    const y = b.getTime();
    return x === y || (Number.isNaN(x) && Number.isNaN(y));
  }
  return compareBson(a, b) === 0;
}
