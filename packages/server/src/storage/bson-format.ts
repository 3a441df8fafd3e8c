/**
 * Printing BSON values the way MongoDB's error messages do (`BSONObj::toString`).
 *
 * @packageDocumentation
 */
import { binDataParts, bsonTag } from "./bson-types.js";
import { toHex } from "./bson-key.js";

function formatUuid(bytes: Uint8Array): string {
  const h = toHex(bytes);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * A BSON value as MongoDB prints it in messages: `{ _id: 1 }`, `"abc"`, `[ 1, 2 ]`,
 * `ObjectId('…')`, `UUID("…")`, `BinData(0, 0AFF…)`, `new Date(…)`, `Timestamp(t, i)`.
 *
 * @remarks A JS number prints as an integer when it is integral (MongoDB prints doubles as
 * `1.0`; a JS number does not say which it is).
 */
export function formatBson(v: unknown): string {
  switch (typeof v) {
    case "string":
      return JSON.stringify(v);
    case "number":
    case "bigint":
    case "boolean":
      return String(v);
    case "undefined":
      return "undefined";
    case "object":
      break;
    default:
      return String(v);
  }
  if (v === null) return "null";
  if (Array.isArray(v)) return v.length === 0 ? "[]" : `[ ${v.map(formatBson).join(", ")} ]`;
  const tag = bsonTag(v);
  if (tag !== undefined) {
    switch (tag) {
      case "Binary": {
        const { bytes, subType } = binDataParts(v);
        if (subType === 4 && bytes.length === 16) return `UUID("${formatUuid(bytes)}")`;
        return `BinData(${subType}, ${toHex(bytes).toUpperCase()})`;
      }
      case "ObjectId":
        return `ObjectId('${(v as { toHexString(): string }).toHexString()}')`;
      case "Timestamp": {
        const ts = v as { t: number; i: number };
        return `Timestamp(${ts.t}, ${ts.i})`;
      }
      case "Decimal128":
        return `NumberDecimal("${String(v)}")`;
      case "Int32":
      case "Double":
        return String((v as { value: number }).value);
      case "MinKey":
      case "MaxKey":
        return tag;
      case "BSONRegExp": {
        const r = v as { pattern: string; options: string };
        return `/${r.pattern}/${r.options}`;
      }
      default:
        return String(v);
    }
  }
  if (v instanceof Date) return `new Date(${v.getTime()})`;
  if (v instanceof RegExp) return String(v);
  if (v instanceof Uint8Array) return `BinData(0, ${toHex(v).toUpperCase()})`;
  return formatFields(v as Record<string, unknown>);
}

/** `{ a: 1, b: "x" }` for the fields of a document (`{}` when empty). */
export function formatFields(doc: Record<string, unknown>): string {
  const keys = Object.keys(doc);
  if (keys.length === 0) return "{}";
  return `{ ${keys.map((k) => `${k}: ${formatBson(doc[k])}`).join(", ")} }`;
}
