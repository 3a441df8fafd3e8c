/**
 * A canonical string per BSON value, for keying maps (the `_id` index, `$in` sets, `$group`).
 *
 * @packageDocumentation
 */
import { InvariantViolation } from "../errors/index.js";
import { binDataParts, bsonTag } from "./bson-types.js";

const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** One char per byte (U+0000..U+00FF): a compact, flat one-byte string. */
function latin1(bytes: Uint8Array): string {
  const b = bytes as Uint8Array & { latin1Slice?: (start: number, end: number) => string };
  if (typeof b.latin1Slice === "function") return b.latin1Slice(0, bytes.length);
  let s = "";
  for (let i = 0; i < bytes.length; i += 4096) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 4096) as unknown as number[]);
  }
  return s;
}

/** Lower-case hex of `bytes` (table lookup; faster than `Buffer#toString` for short inputs). */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]];
  return s;
}

const TWO53 = 2 ** 53;

function numberKey(n: number): string {
  // String(-0) is "0" and String(1.0) is "1". Large integral doubles print in shortest form
  // (2**60 → "1152921504606847000"), so spell them exactly, as Long#toString does.
  return Math.abs(n) >= TWO53 && Number.isInteger(n) ? "n" + BigInt(n) : "n" + n;
}

function objectKey(v: object): string {
  const tag = bsonTag(v);
  if (tag !== undefined) {
    switch (tag) {
      case "Binary": {
        const { bytes, subType } = binDataParts(v);
        return "b" + subType + ":" + bytes.length + ":" + latin1(bytes);
      }
      case "Long":
        return "n" + (v as { toString(): string }).toString();
      case "Int32":
      case "Double":
        return numberKey((v as { value: number }).value);
      case "Decimal128":
        return numberKey(Number((v as { toString(): string }).toString()));
      case "ObjectId":
        return "o" + (v as { toHexString(): string }).toHexString();
      case "Timestamp": {
        const ts = v as { t: number; i: number };
        return "t" + ts.t + ":" + ts.i;
      }
      case "MinKey":
        return "m";
      case "MaxKey":
        return "M";
      case "BSONRegExp": {
        const r = v as { pattern: string; options: string };
        return "r" + r.pattern.length + ":" + r.pattern + "/" + r.options;
      }
      case "BSONSymbol": {
        const s = (v as { value: string }).value;
        return "s" + s.length + ":" + s;
      }
      case "Code": {
        const c = (v as { code: string }).code;
        return "c" + c.length + ":" + c;
      }
      default:
        throw new InvariantViolation(`bsonKey: unsupported BSON type ${tag}`);
    }
  }
  if (Array.isArray(v)) {
    let s = "[";
    for (let i = 0; i < v.length; i++) s += bsonKey(v[i]) + ",";
    return s + "]";
  }
  if (v instanceof Date) return "d" + v.getTime();
  if (v instanceof RegExp) return "r" + v.source.length + ":" + v.source + "/" + v.flags;
  if (v instanceof Uint8Array) return "b0:" + v.length + ":" + latin1(v);
  let s = "{";
  const o = v as Record<string, unknown>;
  for (const k in o) s += k.length + ":" + k + bsonKey(o[k]) + ",";
  return s + "}";
}

/**
 * A canonical string for a BSON value: `bsonKey(a) === bsonKey(b)` exactly when
 * `bsonEquals(a, b)`.
 *
 * @remarks Numbers key by value (`1`, `1.0`, `Long(1)` and `Int32(1)` share a key); a `UUID`
 * keys like a subtype-4 `Binary`; objects are order-sensitive, as BSON equality is. Decimal128
 * keys by its double value (an approximation). The encoding is prefix-free: strings, names and
 * BinData bytes (one latin-1 char per byte, to keep keys short) are length-prefixed, and every
 * array element / object field ends with a comma.
 *
 * @example
 * ```ts
 * bsonKey({ id: new UUID(hex), uid: new Binary(bytes) }); // "{2:idb4:16:…,3:uidb0:32:…,}"
 * ```
 */
export function bsonKey(v: unknown): string {
  switch (typeof v) {
    case "string":
      return "s" + v.length + ":" + v;
    case "number":
      return numberKey(v);
    case "boolean":
      return v ? "T" : "F";
    case "undefined":
      return "U";
    case "bigint":
      return "n" + v;
    case "object":
      return v === null ? "N" : objectKey(v);
    default:
      throw new InvariantViolation(`bsonKey: unsupported value of type ${typeof v}`);
  }
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

const mix = (h: number, x: number): number => Math.imul(h ^ x, 0x01000193);

function hashString(h: number, s: string): number {
  h = mix(h, s.length);
  for (let i = 0; i < s.length; i++) h = mix(h, s.charCodeAt(i));
  return h;
}

function hashNumber(h: number, n: number): number {
  if (Number.isInteger(n) && n >= -0x80000000 && n <= 0x7fffffff) return mix(mix(h, 0x6e), n | 0);
  if (Number.isNaN(n)) return mix(h, 0x4e614e);
  f64[0] = n;
  return mix(mix(mix(h, 0x6e), u32[0]), u32[1]);
}

function hashBytes(h: number, bytes: Uint8Array, n: number = bytes.length): number {
  h = mix(h, n);
  let i = 0;
  for (; i + 3 < n; i += 4) h = mix(h, bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
  for (; i < n; i++) h = mix(h, bytes[i]);
  return h;
}

function hashValue(h: number, v: unknown): number {
  switch (typeof v) {
    case "string":
      return hashString(mix(h, 0x73), v);
    case "number":
      return hashNumber(h, v);
    case "boolean":
      return mix(h, v ? 0x54 : 0x46);
    case "undefined":
      return mix(h, 0x55);
    case "bigint":
      return hashNumber(h, Number(v));
    case "object":
      break;
    default:
      throw new InvariantViolation(`bsonHash: unsupported value of type ${typeof v}`);
  }
  if (v === null) return mix(h, 0x4e);
  if (Array.isArray(v)) {
    h = mix(h, 0x5b);
    for (let i = 0; i < v.length; i++) h = hashValue(h, v[i]);
    return mix(h, v.length);
  }
  const tag = bsonTag(v);
  if (tag !== undefined) {
    switch (tag) {
      case "Binary": {
        const b = v as { buffer: Uint8Array; position: number; sub_type: number };
        return hashBytes(mix(mix(h, 0x62), b.sub_type), b.buffer, b.position);
      }
      case "Long":
        return hashNumber(h, (v as { toNumber(): number }).toNumber());
      case "Int32":
      case "Double":
        return hashNumber(h, (v as { value: number }).value);
      case "Decimal128":
        return hashNumber(h, Number((v as { toString(): string }).toString()));
      case "Timestamp": {
        const ts = v as { t: number; i: number };
        return mix(mix(mix(h, 0x74), ts.t), ts.i);
      }
      default:
        // ObjectId, MinKey, MaxKey, regexes, Code: rare as keys; hash their canonical key.
        return hashString(mix(h, 0x6b), objectKey(v));
    }
  }
  if (v instanceof Date) return hashNumber(mix(h, 0x64), v.getTime());
  if (v instanceof RegExp || v instanceof Uint8Array) return hashString(mix(h, 0x6b), objectKey(v));
  h = mix(h, 0x7b);
  const o = v as Record<string, unknown>;
  for (const k in o) h = hashValue(hashString(h, k), o[k]);
  return mix(h, 0x7d);
}

/**
 * A 30-bit hash of a BSON value consistent with {@link bsonKey} equality (equal values hash
 * equally: `1`, `1.0`, `Long(1)`; a UUID and a subtype-4 Binary), computed without building a
 * string. Small non-negative integers are V8 Smis, the cheapest `Map` keys.
 */
export function bsonHash(v: unknown): number {
  return (hashValue(0x811c9dc5, v) >>> 0) & 0x3fffffff;
}
